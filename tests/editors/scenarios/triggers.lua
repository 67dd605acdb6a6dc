-- When the plugin asks for a next edit: leaving insert mode, a change in normal mode, and idle time
-- in insert mode (each enabled by its trigger option).
return function(H)
  local zeta2 = require("zeta2")
  zeta2.setup({ cmd = vim.json.decode(os.getenv("ZETA2_TEST_CMD")), triggers = { insert_idle = false } })
  vim.cmd.edit(os.getenv("ZETA2_TEST_FILE"))
  local client = H.wait("the zeta2 client attached", function()
    return vim.lsp.get_clients({ bufnr = 0, name = "zeta2" })[1]
  end)
  H.wait("the buffer hooked up", function() return zeta2.buffers[vim.api.nvim_get_current_buf()] end)
  local asked = {}
  local request = client.request
  client.request = function(self, method, params, ...)
    if method == "textDocument/copilotInlineEdit" then
      asked[#asked + 1] = { mode = vim.api.nvim_get_mode().mode, line = params.position.line, character = params.position.character }
    end
    return request(self, method, params, ...)
  end
  local out = {}
  H.input("ihello<Esc>")
  H.wait("a request on InsertLeave", function() return #asked >= 1 end)
  H.input("x")
  H.wait("a request after a normal-mode change", function() return #asked >= 2 end)
  zeta2.config.triggers.insert_idle = true
  zeta2.config.debounce_ms = 30
  H.input("ia")
  H.wait("a request after idle time in insert mode", function() return #asked >= 3 end)
  H.input("<Esc>")
  H.wait("a request on InsertLeave", function() return #asked >= 4 end)
  local pong
  client:request("zeta2/ping", {}, function(err, r) pong = r or { error = err } end, 0)
  H.wait("zeta2/ping answered", function() return pong end)
  out.asked = asked
  out.line = vim.api.nvim_get_current_line()
  return out
end
