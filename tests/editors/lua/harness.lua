-- Runs a test scenario inside a real headless nvim. The scenario is a coroutine: it types through
-- nvim_input (so keys go through nvim's real input loop, mappings and autocmds), waits on conditions
-- polled every few milliseconds (never a fixed sleep), and returns observations. The result, or the
-- error, is written as JSON to $ZETA2_TEST_RESULT and nvim quits.
local H = {}

local result_path = assert(os.getenv("ZETA2_TEST_RESULT"), "ZETA2_TEST_RESULT is not set")
local default_timeout_ms = tonumber(os.getenv("ZETA2_TEST_WAIT_MS") or "20000")
local waiting = nil -- { cond, deadline, what }

local function finish(payload)
  local f = assert(io.open(result_path, "w"))
  f:write(vim.json.encode(payload))
  f:close()
  vim.cmd("qall!")
end

--- Yields until `cond()` is truthy; raises naming `what` after `timeout_ms`. Returns cond()'s value.
function H.wait(what, cond, timeout_ms)
  local deadline = vim.uv.now() + (timeout_ms or default_timeout_ms)
  waiting = { cond = cond, deadline = deadline, what = what }
  return coroutine.yield()
end

-- A mapping at the end of each input tells when nvim has processed every key before it.
local synced = 0
for _, mode in ipairs({ "n", "i", "v", "x", "o", "c" }) do
  vim.keymap.set(mode, "<Plug>(zeta2-test-sync)", function()
    synced = synced + 1
  end)
end

--- Types keys through nvim's input queue (like a user), then waits until nvim has processed them.
function H.input(keys)
  local target = synced + 1
  vim.api.nvim_input(keys .. "<Plug>(zeta2-test-sync)")
  H.wait("keys processed: " .. keys, function()
    return synced >= target
  end)
end

--- The zeta2 extmarks of a buffer: { line, col, end_line, end_col, virt_text, virt_lines, sign, hl }.
function H.marks(bufnr)
  local ns = require("zeta2").ns
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr or 0, ns, 0, -1, { details = true })) do
    local d = m[4]
    local item = { line = m[2], col = m[3] }
    if d.end_row then
      item.end_line, item.end_col, item.hl = d.end_row, d.end_col, d.hl_group
    end
    if d.virt_text then
      local t = {}
      for _, chunk in ipairs(d.virt_text) do
        t[#t + 1] = chunk[1]
      end
      item.virt_text = table.concat(t)
      item.virt_text_pos = d.virt_text_pos
      item.virt_hl = d.virt_text[1][2]
    end
    if d.virt_lines then
      local ls = {}
      for _, vl in ipairs(d.virt_lines) do
        local t = {}
        for _, chunk in ipairs(vl) do
          t[#t + 1] = chunk[1]
        end
        ls[#ls + 1] = table.concat(t)
      end
      item.virt_lines = ls
    end
    if d.sign_text then
      item.sign = vim.trim(d.sign_text)
    end
    out[#out + 1] = item
  end
  return out
end

function H.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false), "\n") .. "\n"
end

function H.cursor()
  local c = vim.api.nvim_win_get_cursor(0)
  return { c[1] - 1, c[2] }
end

--- Messages vim.notify received (scenarios call H.capture_notify() first).
H.notes = {}
function H.capture_notify()
  vim.notify = function(msg, level)
    H.notes[#H.notes + 1] = { msg = msg, level = level }
  end
end

--- Runs the scenario file (a Lua chunk returning function(H) -> observations table).
function H.run(path)
  local scenario = assert(loadfile(path))()
  local co = coroutine.create(function()
    return scenario(H)
  end)
  local timer = vim.uv.new_timer()
  local function step(...)
    local ok, value = coroutine.resume(co, ...)
    if not ok then
      timer:stop()
      finish({ ok = false, error = debug.traceback(co, tostring(value)), log = require("zeta2.log").lines })
    elseif coroutine.status(co) == "dead" then
      timer:stop()
      finish({ ok = true, result = value or vim.empty_dict(), log = require("zeta2.log").lines })
    end
  end
  timer:start(5, 5, vim.schedule_wrap(function()
    if not waiting or coroutine.status(co) == "dead" then
      return
    end
    local w = waiting
    local ok, value = pcall(w.cond)
    if ok and value then
      waiting = nil
      step(value)
    elseif not ok or vim.uv.now() > w.deadline then
      waiting = nil
      timer:stop()
      local why = ok and "timed out waiting for: " .. w.what or ("error while waiting for " .. w.what .. ": " .. tostring(value))
      finish({ ok = false, error = why, log = require("zeta2.log").lines, marks = H.marks(0), text = H.text(0) })
    end
  end))
  vim.schedule(step)
end

return H
