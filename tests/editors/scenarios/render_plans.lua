-- The pure display decision (zeta2.render.plan) on hand-made edits and views.
return function()
  local render = require("zeta2.render")
  local view = { cursor_line = 1, cursor_col = 4, top = 0, bottom = 30, nearby_lines = 12, sign_text = "Z>" }
  local function with(t, over)
    local c = vim.deepcopy(t)
    for k, v in pairs(over) do
      c[k] = v
    end
    return c
  end
  local out = {}
  -- insertion exactly at the cursor: ghost text, the rest of the lines as virtual lines
  out.ghost = render.plan({ start_line = 1, start_col = 4, end_line = 1, end_col = 4, text = "abc\n  def", lines = { "    " } }, view)
  -- one-line replacement two lines down: struck deletion + inline insertion
  out.inline = render.plan({ start_line = 3, start_col = 8, end_line = 3, end_col = 11, text = "bar", lines = { "    x = foo(1)" } }, view)
  -- insertion of a whole line below line 3 (range at the start of line 4)
  out.lines = render.plan({ start_line = 4, start_col = 0, end_line = 4, end_col = 0, text = "        self.z = z\n", lines = { "" } }, view)
  -- deletion of a whole line
  out.delete_line = render.plan({ start_line = 2, start_col = 0, end_line = 3, end_col = 0, text = "", lines = { "gone", "kept" } }, view)
  -- a far edit: a jump hint on the cursor line and a sign on the edit's line
  out.far = render.plan({ start_line = 40, start_col = 2, end_line = 40, end_col = 2, text = "!", lines = { "  x" } }, with(view, { bottom = 60 }))
  -- near in lines but off-screen (scrolled): a jump too
  out.off_screen = render.plan({ start_line = 0, start_col = 0, end_line = 0, end_col = 0, text = "# hi\n", lines = { "x" } }, with(view, { top = 1 }))
  -- an edit above the cursor: the arrow points up
  out.up = render.plan({ start_line = 0, start_col = 0, end_line = 0, end_col = 1, text = "y", lines = { "x" } }, with(view, { cursor_line = 20, top = 0, bottom = 30, nearby_lines = 5 }))
  out.partial = {
    word = { render.split_partial("  foo(bar)", "word") },
    punct = { render.split_partial("(bar)", "word") },
    line = { render.split_partial("a = 1\nb = 2\n", "line") },
    newline_first = { render.split_partial("\n    return x\n", "line") },
    last = { render.split_partial("end", "line") },
  }
  out.end_of_insert = { { render.end_of_insert(3, 4, "ab") }, { render.end_of_insert(3, 4, "ab\ncde") } }
  out.bad_unit = select(2, pcall(render.split_partial, "x", "char"))
  return out
end
