-- How to show an edit: a pure function from (edit, view) to a display plan, so the decision is
-- testable without a window. Positions are 0-based lines and byte columns, like nvim's extmark API;
-- each mark is `{ line, col, opts }` where `opts` is what `nvim_buf_set_extmark` takes.
local M = {}

M.hl = {
  ghost = "Zeta2Ghost",   -- text the edit inserts at the cursor
  insert = "Zeta2Insert", -- text the edit inserts elsewhere
  delete = "Zeta2Delete", -- text the edit deletes
  hint = "Zeta2Hint",     -- the "Tab: jump" hint
  sign = "Zeta2Sign",
}

--- Splits on "\n" keeping empty pieces ("a\n" -> { "a", "" }).
function M.split_lines(text)
  local lines = {}
  local start = 1
  while true do
    local i = text:find("\n", start, true)
    if not i then
      lines[#lines + 1] = text:sub(start)
      return lines
    end
    lines[#lines + 1] = text:sub(start, i - 1)
    start = i + 1
  end
end

--- Where the cursor lands after inserting `text` at (line, col): the position just past it.
function M.end_of_insert(line, col, text)
  local pieces = M.split_lines(text)
  if #pieces == 1 then
    return line, col + #text
  end
  return line + #pieces - 1, #pieces[#pieces]
end

local function virt_lines(lines, hl)
  local out = {}
  for i, l in ipairs(lines) do
    out[i] = { { l, hl } }
  end
  return out
end

-- Marks that draw the edit where it is: deletions highlighted, insertions as inline virtual text
-- (one line) or virtual lines holding the edited lines' new text (several lines).
local function diff_marks(edit)
  local marks = {}
  local sl, sc, el, ec = edit.start_line, edit.start_col, edit.end_line, edit.end_col
  local deletes = sl ~= el or sc ~= ec
  if deletes then
    marks[#marks + 1] = { sl, sc, { end_row = el, end_col = ec, hl_group = M.hl.delete } }
  end
  if sl == el and not edit.text:find("\n", 1, true) then
    if edit.text ~= "" then
      marks[#marks + 1] = { sl, ec, { virt_text = { { edit.text, M.hl.insert } }, virt_text_pos = "inline" } }
    end
    return marks
  end
  -- Several lines: compare the old lines the range touches with the lines they become, drop the lines
  -- that stay the same at either end, and show the rest of the new lines under the last changed old line.
  local old = edit.lines
  local first, last = old[1], old[#old]
  local new = M.split_lines(first:sub(1, sc) .. edit.text .. last:sub(ec + 1))
  local lead = 0
  while lead < #old and lead < #new and old[lead + 1] == new[lead + 1] do
    lead = lead + 1
  end
  local trail = 0
  while trail < #old - lead and trail < #new - lead and old[#old - trail] == new[#new - trail] do
    trail = trail + 1
  end
  local shown = {}
  for i = lead + 1, #new - trail do
    shown[#shown + 1] = new[i]
  end
  if #shown == 0 then
    return marks
  end
  local old_changed_last = sl + #old - trail - 1 -- last old line that changes
  if old_changed_last >= sl + lead then
    marks[#marks + 1] = { old_changed_last, 0, { virt_lines = virt_lines(shown, M.hl.insert) } }
  elseif sl + lead - 1 >= 0 then
    marks[#marks + 1] = { sl + lead - 1, 0, { virt_lines = virt_lines(shown, M.hl.insert) } }
  else
    marks[#marks + 1] = { 0, 0, { virt_lines = virt_lines(shown, M.hl.insert), virt_lines_above = true } }
  end
  return marks
end

--- Decides how to show `edit` given the `view`.
--- edit: { start_line, start_col, end_line, end_col, text, lines } where `lines` are the buffer's lines
---       start_line..end_line before the edit.
--- view: { cursor_line, cursor_col, top, bottom (first and last visible lines), nearby_lines, sign_text }
--- Returns { kind = "ghost" | "diff" | "jump", target = { line, col }, marks = { {line, col, opts}, ... } }:
---   ghost: an insertion exactly at the cursor, drawn as ghost text (first line inline, the rest as
---          virtual lines);
---   diff:  an edit near the cursor, drawn in place;
---   jump:  an edit off-screen or more than `nearby_lines` away: drawn in place too (visible once there),
---          plus a sign on its line and a hint at the end of the cursor line.
function M.plan(edit, view)
  local sl, sc = edit.start_line, edit.start_col
  local target = { sl, sc }
  local is_insert = sl == edit.end_line and sc == edit.end_col
  if is_insert and sl == view.cursor_line and sc == view.cursor_col then
    local pieces = M.split_lines(edit.text)
    local opts = {}
    if pieces[1] ~= "" then
      opts.virt_text = { { pieces[1], M.hl.ghost } }
      opts.virt_text_pos = "inline"
    end
    if #pieces > 1 then
      opts.virt_lines = virt_lines({ unpack(pieces, 2) }, M.hl.ghost)
    end
    return { kind = "ghost", target = target, marks = { { sl, sc, opts } } }
  end
  local marks = diff_marks(edit)
  local far = math.abs(sl - view.cursor_line) > view.nearby_lines
  local off_screen = sl < view.top or sl > view.bottom
  if not (far or off_screen) then
    return { kind = "diff", target = target, marks = marks }
  end
  local arrow = sl < view.cursor_line and "↑" or "↓"
  marks[#marks + 1] = { sl, 0, { sign_text = view.sign_text, sign_hl_group = M.hl.sign } }
  marks[#marks + 1] = {
    view.cursor_line,
    0,
    { virt_text = { { string.format(" %s Tab: edit at line %d", arrow, sl + 1), M.hl.hint } }, virt_text_pos = "eol" },
  }
  return { kind = "jump", target = target, marks = marks }
end

--- The part of an insertion that "accept word" / "accept line" takes, and the rest.
--- word: leading blanks, then a run of word characters or else a run of other non-blank characters;
--- line: an optional leading newline, then everything up to the next newline.
function M.split_partial(text, unit)
  local taken
  if unit == "word" then
    taken = text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text:match("^%s+") or text
  elseif unit == "line" then
    taken = text:match("^\n?[^\n]*")
    if taken == "" then
      taken = text
    end
  else
    error("zeta2.render.split_partial: unit must be \"word\" or \"line\", got " .. tostring(unit), 0)
  end
  return taken, text:sub(#taken + 1)
end

return M
