-- The plugin's one table of options: defaults, what each means, and validation.
-- `require("zeta2").setup(opts)` merges `opts` over `M.defaults` after `M.validate` accepted them.
local M = {}

-- stylua: ignore
M.defaults = {
  -- Show suggestions at all (`:Zeta2 enable|disable` flips this at run time).
  enabled = true,
  -- How to start the daemon: a list, program first. It speaks LSP over stdio.
  cmd = { "zeta2-daemon" },
  -- Filetypes to attach to; an empty list means every file buffer.
  filetypes = {},
  -- Markers that make a folder the workspace root (the daemon's capture policy looks for a LICENSE there).
  root_markers = { ".git" },
  -- Sent as LSP `initializationOptions` (the daemon's typed settings: model, device, capture, ...).
  init_options = vim.empty_dict(),
  -- When to ask for a next edit.
  triggers = {
    insert_leave = true,   -- on leaving insert mode
    normal_change = true,  -- on a text change made in normal mode (dd, p, u, ...)
    insert_idle = true,    -- after `debounce_ms` without typing in insert mode
  },
  -- Milliseconds of insert-mode idle before a request (the daemon also rate-limits, 300 ms per document).
  debounce_ms = 75,
  -- Edits more than this many lines from the cursor (or off-screen) get a jump hint and a sign instead of
  -- being drawn in place only.
  nearby_lines = 12,
  -- Key mappings (buffer-local, set on attach); `false` leaves a key alone.
  keymaps = {
    accept = "<Tab>",         -- jump to the edit, then apply it; falls through when there is no suggestion
    accept_word = "<M-Right>",-- apply the next word of the inserted text
    accept_line = "<M-Down>", -- apply the next line of the inserted text
    dismiss = "<Esc>",        -- mapped only while a suggestion is shown; also leaves insert mode
  },
  -- Sign column text for the line of an edit away from the cursor.
  sign_text = "Z>",
  -- Forward the diagnostics other language servers publish for the buffer (`zeta2/diagnostics`).
  forward_diagnostics = true,
  -- Minimum level of messages shown with vim.notify: "error" | "warn" | "info" | "debug".
  log_level = "warn",
}

local function describe(value)
  if type(value) == "string" then
    return string.format("%q", value)
  end
  return type(value) .. " " .. vim.inspect(value, { newline = " ", indent = "" })
end

local function is_list_of_strings(v, allow_empty)
  if type(v) ~= "table" or (not allow_empty and #v == 0) then
    return false
  end
  for k, item in pairs(v) do
    if type(k) ~= "number" or type(item) ~= "string" or item == "" then
      return false
    end
  end
  return true
end

local function key_or_false(v)
  return v == false or (type(v) == "string" and v ~= "")
end

-- Each option's check and the words saying what it expects.
local checks = {
  enabled = { function(v) return type(v) == "boolean" end, "a boolean" },
  cmd = { function(v) return is_list_of_strings(v, false) end, "a non-empty list of strings (program, then arguments)" },
  filetypes = { function(v) return is_list_of_strings(v, true) end, "a list of filetype names" },
  root_markers = { function(v) return is_list_of_strings(v, true) end, "a list of file names" },
  init_options = { function(v) return type(v) == "table" end, "a table" },
  triggers = "table",
  ["triggers.insert_leave"] = { function(v) return type(v) == "boolean" end, "a boolean" },
  ["triggers.normal_change"] = { function(v) return type(v) == "boolean" end, "a boolean" },
  ["triggers.insert_idle"] = { function(v) return type(v) == "boolean" end, "a boolean" },
  debounce_ms = {
    function(v) return type(v) == "number" and v >= 0 and v == math.floor(v) end,
    "a non-negative integer (milliseconds)",
  },
  nearby_lines = { function(v) return type(v) == "number" and v >= 0 and v == math.floor(v) end, "a non-negative integer" },
  keymaps = "table",
  ["keymaps.accept"] = { key_or_false, "a key (string) or false" },
  ["keymaps.accept_word"] = { key_or_false, "a key (string) or false" },
  ["keymaps.accept_line"] = { key_or_false, "a key (string) or false" },
  ["keymaps.dismiss"] = { key_or_false, "a key (string) or false" },
  sign_text = {
    function(v) return type(v) == "string" and vim.fn.strdisplaywidth(v) >= 1 and vim.fn.strdisplaywidth(v) <= 2 end,
    "a string 1 or 2 cells wide",
  },
  forward_diagnostics = { function(v) return type(v) == "boolean" end, "a boolean" },
  log_level = {
    function(v) return v == "error" or v == "warn" or v == "info" or v == "debug" end,
    '"error", "warn", "info" or "debug"',
  },
}

local function known_keys(prefix, defaults)
  local keys = {}
  for k in pairs(defaults) do
    keys[#keys + 1] = prefix .. k
  end
  table.sort(keys)
  return table.concat(keys, ", ")
end

-- Checks `opts` against the defaults' shape. Returns nil when fine, else the message naming the key,
-- what was given and what is expected.
local function check(opts, defaults, prefix)
  if type(opts) ~= "table" then
    local what = prefix == "" and "opts" or string.format("option '%s'", prefix:sub(1, -2))
    return string.format("zeta2.setup: %s must be a table, got %s", what, describe(opts))
  end
  local names = vim.tbl_keys(opts)
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(names) do
    local v = opts[k]
    local name = prefix .. tostring(k)
    local rule = checks[name]
    if defaults[k] == nil or rule == nil then
      return string.format("zeta2.setup: unknown option '%s' (given %s); expected one of: %s", name, describe(v), known_keys(prefix, defaults))
    end
    if rule == "table" then
      local err = check(v, defaults[k], name .. ".")
      if err then
        return err
      end
    elseif not rule[1](v) then
      return string.format("zeta2.setup: option '%s' must be %s, got %s", name, rule[2], describe(v))
    end
  end
  return nil
end

--- Validates `opts` and returns the merged configuration, or raises an error whose message names the key.
function M.resolve(opts)
  opts = opts or {}
  local err = check(opts, M.defaults, "")
  if err then
    error(err, 0)
  end
  return vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
end

return M
