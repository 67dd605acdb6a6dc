-- `:checkhealth zeta2`: Neovim version, the daemon executable, whether it runs, its model pack,
-- device and capture state (from the latest zeta2/status it pushed).
local M = {}

function M.check()
  local health = vim.health
  local zeta2 = require("zeta2")
  local opts = zeta2.config or require("zeta2.config").resolve({})

  health.start("zeta2: Neovim")
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim >= 0.11 is required, this is " .. tostring(vim.version()))
  end
  if zeta2.config then
    health.ok("setup() done; suggestions " .. (opts.enabled and "enabled" or "disabled"))
  else
    health.info("setup() not called; using the defaults")
  end

  health.start("zeta2: daemon")
  local exe = opts.cmd[1]
  local path = vim.fn.exepath(exe)
  if path == "" then
    health.error(
      string.format("daemon executable '%s' not found", exe),
      { "pip install zeta2-daemon (or run scripts/setup.sh) and put it on PATH, or set cmd in setup()" }
    )
  else
    health.ok(string.format("daemon executable found: %s", path))
  end
  local clients = vim.lsp.get_clients({ name = "zeta2" })
  if #clients == 0 then
    health.warn("daemon not running: open a file so it starts (" .. table.concat(opts.cmd, " ") .. ")")
    return
  end
  for _, client in ipairs(clients) do
    local st = zeta2.status[client.id]
    local running = not client:is_stopped()
    local where = client.root_dir and (" in " .. client.root_dir) or ""
    if running then
      health.ok(string.format("daemon running (client %d)%s", client.id, where))
    else
      health.error(string.format("daemon client %d has stopped", client.id))
    end
    if not st then
      health.warn("no zeta2/status received from the daemon yet")
    else
      if st.model then
        local trained = st.trained == false and " (untrained default pack: expect few suggestions)" or ""
        health.ok(string.format("model pack: %s%s", tostring(st.model), trained))
      else
        health.error("no model pack loaded", { "build the default pack: zeta2-trainer bootstrap" })
      end
      health.ok("device: " .. tostring(st.device))
      health.info("capture: " .. (st.capture and "on" or "off"))
      if type(st.lastError) == "table" and st.lastError.message then
        health.warn("last error: " .. tostring(st.lastError.message))
      end
    end
  end
end

return M
