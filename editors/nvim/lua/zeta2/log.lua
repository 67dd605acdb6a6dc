-- The plugin's own log: a ring of recent lines (`:Zeta2 log` shows them) and vim.notify for the
-- levels the user asked to see.
local M = {}

M.level = "warn"
M.max_lines = 1000
M.lines = {}

local rank = { debug = 1, info = 2, warn = 3, error = 4 }
local notify_level = {
  debug = vim.log.levels.DEBUG,
  info = vim.log.levels.INFO,
  warn = vim.log.levels.WARN,
  error = vim.log.levels.ERROR,
}
local warned = {}

local function write(level, fmt, ...)
  local ok, msg = pcall(string.format, fmt, ...)
  if not ok then
    msg = fmt
  end
  M.lines[#M.lines + 1] = string.format("%s %-5s %s", os.date("%H:%M:%S"), level, msg)
  if #M.lines > M.max_lines then
    table.remove(M.lines, 1)
  end
  if rank[level] >= rank[M.level] then
    vim.schedule(function()
      vim.notify("zeta2: " .. msg, notify_level[level])
    end)
  end
end

function M.debug(fmt, ...) write("debug", fmt, ...) end
function M.info(fmt, ...) write("info", fmt, ...) end
function M.warn(fmt, ...) write("warn", fmt, ...) end
function M.error(fmt, ...) write("error", fmt, ...) end

--- Warns about a message once per session (the daemon repeats its last error in every status).
function M.warn_once(msg)
  if not warned[msg] then
    warned[msg] = true
    write("warn", "%s", msg)
  end
end

return M
