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
      local err = type(st.lastError) == "table" and st.lastError.message or nil
      if st.model and st.device then
        local trained = st.trained == false and " (untrained default pack: expect few suggestions)" or ""
        health.ok(string.format("model pack: %s%s", tostring(st.model), trained))
        health.ok("device: " .. tostring(st.device))
      else
        health.error(
          string.format("model pack %s not loaded%s", tostring(st.model or "(none)"), err and (": " .. err) or ""),
          { "build the default pack with `zeta2-trainer bootstrap`, or pass --model PACK_DIR in cmd" }
        )
        err = nil -- already said
      end
      health.info("capture: " .. (st.capture and "on" or "off"))
      if err then
        health.warn("last error: " .. err)
      end
    end
  end
end

return M
