-- Attach to the real daemon (no model pack): checkhealth, :Zeta2 status / capture / disable, and
-- the notifications the plugin forwards (cursor, focus, diagnostics).
return function(H)
  H.capture_notify()
  local zeta2 = require("zeta2")
  zeta2.setup({ cmd = vim.json.decode(os.getenv("ZETA2_TEST_CMD")), log_level = "debug" })
  vim.cmd.edit(os.getenv("ZETA2_TEST_FILE"))
  local client = H.wait("the zeta2 client attached", function()
    return vim.lsp.get_clients({ bufnr = 0, name = "zeta2" })[1]
  end)
  H.wait("the buffer hooked up", function() return zeta2.buffers[vim.api.nvim_get_current_buf()] end)
  local status = H.wait("a zeta2/status", function() return zeta2.status[client.id] end)
  local out = { first_status = status, encoding = client.offset_encoding }

  -- checkhealth renders into a buffer
  vim.cmd("checkhealth zeta2")
  out.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("bwipeout")

  vim.cmd("Zeta2 status")
  out.status_note = H.notes[#H.notes].msg

  vim.cmd("Zeta2 capture on")
  H.wait("the daemon reports capture on", function()
    return zeta2.status[client.id] and zeta2.status[client.id].capture == true
  end)
  vim.cmd("Zeta2 capture off")
  H.wait("the daemon reports capture off", function()
    return zeta2.status[client.id] and zeta2.status[client.id].capture == false
  end)

  vim.cmd("Zeta2 bogus")
  out.bogus_note = H.notes[#H.notes].msg

  -- cursor moves and diagnostics of another source are forwarded (a spy records what is sent)
  local sent = {}
  local notify = client.notify
  client.notify = function(self, method, params)
    sent[#sent + 1] = { method = method, params = params }
    return notify(self, method, params)
  end
  H.input("2G$")
  local other = vim.api.nvim_create_namespace("other-linter")
  vim.diagnostic.set(other, 0, { { lnum = 2, col = 8, end_lnum = 2, end_col = 12, severity = vim.diagnostic.severity.ERROR, message = "undefined name 'q'", source = "pyright" } })
  -- a barrier: the daemon answers zeta2/ping after everything sent before it
  local pong
  client:request("zeta2/ping", {}, function(_, r) pong = r end, 0)
  H.wait("zeta2/ping answered", function() return pong end)
  out.pong = pong
  out.sent = sent
  client.notify = nil -- the spy ends here (the class method again)
  -- two requests in a row: the second cancels the first ($/cancelRequest)
  zeta2.request(0)
  local first = zeta2.buffers[vim.api.nvim_get_current_buf()].pending.id
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  zeta2.request(0)
  out.cancelled_first = client.requests[first] == nil or client.requests[first].type == "cancel"
  local pong2
  client:request("zeta2/ping", {}, function(err, r) pong2 = r or { error = err } end, 0)
  H.wait("zeta2/ping answered after the cancel", function() return pong2 end)

  -- no suggestion: Tab keeps its usual meaning (a literal tab in insert mode)
  H.input("Go<Tab>x<Esc>")
  out.tab_line = vim.api.nvim_get_current_line()
  out.tab_maps = {
    i = vim.fn.maparg("<Tab>", "i", false, true).desc,
    n = vim.fn.maparg("<Tab>", "n", false, true).desc,
  }

  vim.cmd("Zeta2 disable")
  out.disabled = zeta2.config.enabled
  vim.cmd("Zeta2 log")
  out.log_buffer = vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]
  return out
end
