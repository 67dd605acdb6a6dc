-- Replays a scripted editing session in a real nvim attached to zeta2-daemon, waits for the
-- suggestion, then does what $ZETA2_TEST_FLOW says:
--   accept:      Tab (jump), Tab (apply)
--   dismiss:     Esc
--   partial:     Tab (jump), accept one word, then Tab for the rest
--   typethrough: Tab (jump), type the first character of the suggestion, then Esc
-- and records the extmarks, cursor, mode and text after each step, and what the plugin sent.
return function(H)
  H.capture_notify()
  local zeta2 = require("zeta2")
  zeta2.setup({
    cmd = vim.json.decode(os.getenv("ZETA2_TEST_CMD")),
    log_level = "debug",
    debounce_ms = 50,
    nearby_lines = tonumber(os.getenv("ZETA2_TEST_NEARBY") or "12"),
  })
  vim.cmd.edit(os.getenv("ZETA2_TEST_FILE"))
  local bufnr = vim.api.nvim_get_current_buf()
  local client = H.wait("the zeta2 client attached", function()
    return vim.lsp.get_clients({ bufnr = bufnr, name = "zeta2" })[1]
  end)
  H.wait("the daemon's first status", function() return zeta2.status[client.id] end)
  local state = H.wait("the buffer hooked up", function() return zeta2.buffers[bufnr] end)

  local sent = {}
  local notify, request = client.notify, client.request
  client.notify = function(self, method, params)
    sent[#sent + 1] = { method = method, params = params }
    return notify(self, method, params)
  end
  client.request = function(self, method, params, ...)
    if method ~= "textDocument/copilotInlineEdit" then
      sent[#sent + 1] = { method = method, params = params }
    end
    return request(self, method, params, ...)
  end

  local function snapshot()
    local s = state.suggestion
    return {
      marks = H.marks(bufnr),
      cursor = H.cursor(),
      mode = vim.api.nvim_get_mode().mode,
      text = H.text(bufnr),
      kind = s and s.plan and s.plan.kind or vim.NIL,
      id = s and s.id or vim.NIL,
      suggestion_text = s and s.edit.text or vim.NIL,
    }
  end

  local out = { steps = {} }
  H.input(os.getenv("ZETA2_TEST_KEYS"))
  out.typed = H.text(bufnr)
  H.wait("a suggestion", function() return state.suggestion end)
  out.steps.shown = snapshot()
  local flow = os.getenv("ZETA2_TEST_FLOW")
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  if flow == "accept" then
    H.input("<Tab>")
    out.steps.jumped = snapshot()
    H.input("<Tab>")
    H.wait("the edit applied", function() return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick end)
    out.steps.applied = snapshot()
  elseif flow == "dismiss" then
    H.input("<Esc>")
    out.steps.dismissed = snapshot()
  elseif flow == "partial" then
    H.input("<Tab>")
    out.steps.jumped = snapshot()
    H.input("<M-Right>")
    out.steps.word = snapshot()
    H.input("<Tab>")
    out.steps.rest = snapshot()
  elseif flow == "typethrough" then
    H.input("<Tab>")
    out.steps.jumped = snapshot()
    H.input(vim.fn.escape(state.suggestion.edit.text:sub(1, 1), "<"))
    out.steps.typed_through = snapshot()
    H.input("x")
    out.steps.contradicted = snapshot()
  else
    error("unknown ZETA2_TEST_FLOW " .. tostring(flow))
  end
  -- a barrier: everything sent so far has reached the daemon when it answers
  local pong
  client:request("zeta2/ping", {}, function(err, r) pong = r or { error = err and err.message or "?" } end, bufnr)
  H.wait("zeta2/ping answered", function() return pong end)
  out.pong = pong
  out.sent = sent
  out.status = zeta2.status[client.id]
  vim.cmd("checkhealth zeta2")
  out.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  return out
end
