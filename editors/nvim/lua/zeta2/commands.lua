-- `:Zeta2 {status|enable|disable|capture on|capture off|log}`
local M = {}

M.usage = "usage: :Zeta2 status | enable | disable | capture on | capture off | log"

function M.run(args)
  local zeta2 = require("zeta2")
  local sub = args[1]
  if sub == "status" and #args == 1 then
    vim.notify(table.concat(zeta2.status_lines(), "\n"), vim.log.levels.INFO)
  elseif sub == "enable" and #args == 1 then
    zeta2.set_enabled(true)
  elseif sub == "disable" and #args == 1 then
    zeta2.set_enabled(false)
  elseif sub == "capture" and #args == 2 and (args[2] == "on" or args[2] == "off") then
    zeta2.set_capture(args[2] == "on")
  elseif sub == "log" and #args == 1 then
    M.open_log()
  else
    vim.notify(string.format("zeta2: unknown command ':Zeta2 %s'; %s", table.concat(args, " "), M.usage), vim.log.levels.ERROR)
    return false
  end
  return true
end

--- Opens the plugin's log (and the daemon's LSP log path) in a scratch buffer.
function M.open_log()
  local lines = vim.list_extend({}, require("zeta2.log").lines)
  table.insert(lines, 1, "-- zeta2 plugin log (LSP traffic: " .. vim.lsp.log.get_filename() .. ")")
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_name(buf, "zeta2://log")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
end

return M
