-- zeta2 for Neovim: attaches to zeta2-daemon, asks for next-edit suggestions, draws them, and
-- reports what the user did with them (shown, accepted, partially accepted, rejected).
local config = require("zeta2.config")
local render = require("zeta2.render")
local log = require("zeta2.log")

local M = {}

M.ns = vim.api.nvim_create_namespace("zeta2")
M.config = nil -- the resolved options; set by setup() (or defaults on the first attach)
M.status = {} -- client id -> the latest zeta2/status the daemon pushed
M.buffers = {} -- bufnr -> per-buffer state (see new_state)

local augroup = vim.api.nvim_create_augroup("zeta2", { clear = true })

local function cfg()
  if not M.config then
    M.config = config.resolve({})
  end
  return M.config
end

local function define_highlights()
  local set = function(name, val)
    val.default = true
    vim.api.nvim_set_hl(0, name, val)
  end
  set("Zeta2Ghost", { link = "Comment" })
  set("Zeta2Insert", { fg = "#98c379", ctermfg = 2, italic = true })
  set("Zeta2Delete", { fg = "#e06c75", ctermfg = 1, strikethrough = true })
  set("Zeta2Hint", { link = "DiagnosticHint" })
  set("Zeta2Sign", { link = "DiagnosticSignHint" })
end

--- The LSP client configuration: what `lsp/zeta2.lua` returns, with the options applied.
function M.lsp_config(opts)
  opts = opts or cfg()
  return {
    cmd = opts.cmd,
    filetypes = #opts.filetypes > 0 and opts.filetypes or nil,
    root_markers = opts.root_markers,
    init_options = opts.init_options,
    -- Send each change at once: suggestions and cursor notifications refer to the newest text.
    flags = { debounce_text_changes = 0 },
    handlers = {
      ["zeta2/status"] = function(_, result, ctx)
        M.on_status(ctx.client_id, result)
      end,
    },
  }
end

--- Validates and applies options; starts the daemon for matching buffers (vim.lsp.enable).
function M.setup(opts)
  M.config = config.resolve(opts)
  define_highlights()
  vim.lsp.config("zeta2", M.lsp_config(M.config))
  vim.lsp.enable("zeta2")
  log.level = M.config.log_level
  return M
end

function M.on_status(client_id, status)
  M.status[client_id] = status
  log.debug("status: %s", vim.json.encode(status))
  if type(status) == "table" and type(status.lastError) == "table" and status.lastError.message then
    log.warn_once("daemon: " .. tostring(status.lastError.message))
  end
end

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = "zeta2" })[1]
end

local function new_state(bufnr, client_id)
  return {
    bufnr = bufnr,
    client_id = client_id,
    pending = nil, -- { client, id } of the request in flight
    timer = nil, -- insert-mode debounce
    suggestion = nil, -- see show()
    own_tick = nil, -- b:changedtick right after an edit the plugin made itself
    skip_leave = false, -- the next InsertLeave is the one a dismissal caused: do not ask again
    escape_mapped = {},
  }
end

-- Position conversions between the client's offset encoding and byte columns.
local function line_text(bufnr, line)
  return vim.api.nvim_buf_get_lines(bufnr, line, line + 1, false)[1] or ""
end

local function to_byte_col(bufnr, line, character, encoding)
  local text = line_text(bufnr, line)
  if encoding == "utf-8" then
    return math.min(character, #text)
  end
  local ok, col = pcall(vim.str_byteindex, text, encoding, character, false)
  return ok and col or #text
end

local function text_length(text, encoding)
  if encoding == "utf-8" then
    return #text
  end
  return vim.str_utfindex(text, encoding, nil, false)
end

local function view_of(state)
  local win = vim.fn.bufwinid(state.bufnr)
  local cursor = vim.api.nvim_win_get_cursor(win ~= -1 and win or 0)
  local top, bottom = cursor[1] - 1, cursor[1] - 1
  if win ~= -1 then
    top = vim.fn.line("w0", win) - 1
    bottom = vim.fn.line("w$", win) - 1
  end
  return {
    cursor_line = cursor[1] - 1,
    cursor_col = cursor[2],
    top = top,
    bottom = bottom,
    nearby_lines = cfg().nearby_lines,
    sign_text = cfg().sign_text,
  }
end

local function draw(state)
  local s = state.suggestion
  vim.api.nvim_buf_clear_namespace(state.bufnr, M.ns, 0, -1)
  if not s then
    return
  end
  s.edit.lines = vim.api.nvim_buf_get_lines(state.bufnr, s.edit.start_line, s.edit.end_line + 1, false)
  local ok, plan = pcall(render.plan, s.edit, view_of(state))
  if not ok or #s.edit.lines ~= s.edit.end_line - s.edit.start_line + 1 then
    -- The buffer no longer has the lines the edit refers to: drop it (the next answer replaces it).
    log.debug("suggestion %s no longer fits the buffer: %s", tostring(s.id), ok and "lines gone" or plan)
    state.suggestion = nil
    return
  end
  s.plan = plan
  for _, mark in ipairs(s.plan.marks) do
    local ok, err = pcall(vim.api.nvim_buf_set_extmark, state.bufnr, M.ns, mark[1], mark[2], mark[3])
    if not ok then
      log.debug("extmark not drawn: %s", err)
    end
  end
end

local function map_escape(state, on)
  local key = cfg().keymaps.dismiss
  if not key then
    return
  end
  for _, mode in ipairs({ "i", "n" }) do
    if on and not state.escape_mapped[mode] then
      local existing = vim.fn.maparg(key, mode, false, true)
      if existing.buffer ~= 1 then
        vim.keymap.set(mode, key, function()
          M.dismiss(state.bufnr, mode)
        end, { buffer = state.bufnr, desc = "zeta2: dismiss the suggestion" })
        state.escape_mapped[mode] = true
      end
    elseif not on and state.escape_mapped[mode] then
      pcall(vim.keymap.del, mode, key, { buffer = state.bufnr })
      state.escape_mapped[mode] = false
    end
  end
end

local function clear(state)
  state.suggestion = nil
  vim.api.nvim_buf_clear_namespace(state.bufnr, M.ns, 0, -1)
  map_escape(state, false)
end

--- Sends zeta2/didReject for the shown suggestion and removes it.
function M.reject(bufnr, reason)
  local state = M.buffers[bufnr]
  if not (state and state.suggestion) then
    return false
  end
  local s = state.suggestion
  local client = vim.lsp.get_client_by_id(s.client_id)
  if client and s.id then
    client:notify("zeta2/didReject", { id = s.id, reason = reason })
  end
  log.info("rejected %s (%s)", tostring(s.id), reason)
  clear(state)
  return true
end

-- Turns the daemon's edit (LSP range in the client's encoding) into a suggestion and shows it.
local function show(state, client, item)
  local enc = client.offset_encoding
  local r = item.range
  local sl, el = r.start.line, r["end"].line
  local nlines = vim.api.nvim_buf_line_count(state.bufnr)
  if sl >= nlines or el >= nlines + 1 then
    log.debug("edit out of the buffer: %s", vim.inspect(r))
    return
  end
  if el >= nlines then -- a range ending at the start of the line past the last one
    el, r = nlines - 1, vim.deepcopy(r)
    r["end"] = { line = el, character = vim.str_utfindex(line_text(state.bufnr, el), enc, nil, false) }
  end
  local id = item.command and item.command.arguments and item.command.arguments[1] or item.id
  if state.suggestion then
    if state.suggestion.id == id then
      clear(state) -- same suggestion, maybe moved by typing: redraw without a reject
    else
      M.reject(state.bufnr, "replaced")
    end
  end
  state.suggestion = {
    id = id,
    client_id = client.id,
    item = item,
    accepted_length = 0,
    edit = {
      start_line = sl,
      start_col = to_byte_col(state.bufnr, sl, r.start.character, enc),
      end_line = el,
      end_col = to_byte_col(state.bufnr, el, r["end"].character, enc),
      text = item.text,
    },
  }
  state.suggestion.start_line_text = line_text(state.bufnr, sl)
  draw(state)
  if not state.suggestion then
    return
  end
  map_escape(state, true)
  client:notify("textDocument/didShowInlineEdit", { item = item })
  log.info("shown %s as %s at line %d", tostring(id), state.suggestion.plan.kind, sl + 1)
end

--- Asks the daemon for a next edit at the cursor, cancelling the request still in flight.
function M.request(bufnr)
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  local client = client_for(bufnr)
  if not (state and client and cfg().enabled) or vim.api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(0)
  -- Leaving insert mode fires InsertLeave and then TextChanged for the same text and cursor: ask once.
  local key = string.format("%d:%d:%d", tick, cursor[1], cursor[2])
  if state.asked == key then
    return
  end
  state.asked = key
  if state.pending then
    state.pending.client:cancel_request(state.pending.id)
    state.pending = nil
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.textDocument.version = vim.lsp.util.buf_versions[bufnr]
  local request_id
  local ok, id = client:request("textDocument/copilotInlineEdit", params, function(err, result)
    if state.pending and state.pending.id == request_id then
      state.pending = nil
    end
    if err then
      log.debug("copilotInlineEdit error: %s", err.message or vim.inspect(err))
      return
    end
    -- Stale: the buffer changed since the request (a newer request is on its way).
    if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick or not cfg().enabled then
      log.debug("dropped a stale answer")
      return
    end
    local item = result and result.edits and result.edits[1]
    if item then
      show(state, client, item)
    end
  end, bufnr)
  if ok then
    request_id = id
    state.pending = { client = client, id = id }
    log.debug("requested at %d:%d", params.position.line, params.position.character)
  end
end

local function cursor_byte()
  local c = vim.api.nvim_win_get_cursor(0)
  return c[1] - 1, c[2]
end

-- Replaces [start, end) with `text` as the plugin's own edit and puts the cursor after it.
local function apply(state, edit, text)
  local lines = render.split_lines(text)
  vim.api.nvim_buf_set_text(state.bufnr, edit.start_line, edit.start_col, edit.end_line, edit.end_col, lines)
  state.own_tick = vim.api.nvim_buf_get_changedtick(state.bufnr)
  local line, col = render.end_of_insert(edit.start_line, edit.start_col, text)
  local win = vim.fn.bufwinid(state.bufnr)
  if win ~= -1 then
    pcall(vim.api.nvim_win_set_cursor, win, { line + 1, col })
  end
  return line, col
end

--- Tab: jump to the suggestion when the cursor is not on it, else apply it. False when there is none.
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  local s = state and state.suggestion
  if not s then
    return false
  end
  local line = cursor_byte()
  if line < s.edit.start_line or line > s.edit.end_line then
    vim.api.nvim_win_set_cursor(0, { s.edit.start_line + 1, s.edit.start_col })
    draw(state)
    log.info("jumped to %s", tostring(s.id))
    return true
  end
  clear(state)
  apply(state, s.edit, s.edit.text)
  local client = vim.lsp.get_client_by_id(s.client_id)
  if client and s.id then
    local command = s.item.command or { command = "zeta2.accept", arguments = { s.id } }
    client:request("workspace/executeCommand", { command = command.command, arguments = command.arguments }, function() end, bufnr)
  end
  log.info("accepted %s", tostring(s.id))
  return true
end

--- Applies the next word or line of the suggestion's new text ("word" | "line").
function M.accept_partial(bufnr, unit)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  local s = state and state.suggestion
  if not s then
    return false
  end
  local taken, rest = render.split_partial(s.edit.text, unit)
  if rest == "" then
    return M.accept(bufnr)
  end
  local line, col = apply(state, s.edit, taken)
  local client = vim.lsp.get_client_by_id(s.client_id)
  s.accepted_length = s.accepted_length + text_length(taken, client and client.offset_encoding or "utf-16")
  if client and s.id then
    client:notify("zeta2/didPartiallyAccept", { id = s.id, acceptedLength = s.accepted_length })
  end
  -- What remains is an insertion right after the accepted part.
  s.edit = { start_line = line, start_col = col, end_line = line, end_col = col, text = rest }
  s.start_line_text = line_text(bufnr, line)
  draw(state)
  log.info("partially accepted %s (%s)", tostring(s.id), unit)
  return true
end

--- Esc: dismisses the suggestion (and in insert mode still leaves insert mode).
function M.dismiss(bufnr, mode)
  local state = M.buffers[bufnr]
  local had = M.reject(bufnr, "dismissed")
  if mode == "i" then
    if had and state then
      state.skip_leave = true
    end
    vim.api.nvim_feedkeys(vim.keycode("<Esc>"), "ni", false)
  end
end

-- After a text change: keep the suggestion while the typed text is a prefix of its new text at its
-- start (moving it along), otherwise the typing contradicts it.
local function on_text_changed(state)
  local s = state.suggestion
  if not s or vim.api.nvim_buf_get_changedtick(state.bufnr) == state.own_tick then
    return
  end
  local line, col = cursor_byte()
  local e = s.edit
  local k = col - e.start_col
  local typed = k > 0 and line_text(state.bufnr, line):sub(e.start_col + 1, col) or ""
  local expected_line = s.start_line_text:sub(1, e.start_col) .. typed .. s.start_line_text:sub(e.start_col + 1)
  if
    line == e.start_line
    and k > 0
    and k < #e.text
    and e.text:sub(1, k) == typed
    and not typed:find("\n", 1, true)
    and line_text(state.bufnr, line) == expected_line
  then
    s.edit = {
      start_line = e.start_line,
      start_col = col,
      end_line = e.end_line,
      end_col = e.end_line == e.start_line and e.end_col + k or e.end_col,
      text = e.text:sub(k + 1),
    }
    s.start_line_text = line_text(state.bufnr, line)
    draw(state)
    return
  end
  M.reject(state.bufnr, "typed")
end

local function schedule_idle_request(state)
  if not cfg().triggers.insert_idle then
    return
  end
  if not state.timer then
    state.timer = vim.uv.new_timer()
  end
  state.timer:stop()
  state.timer:start(cfg().debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(state.bufnr) and vim.fn.mode() == "i" then
      M.request(state.bufnr)
    end
  end))
end

local function lsp_position(bufnr, client)
  return vim.lsp.util.make_position_params(0, client.offset_encoding).position
end

-- Diagnostics of the other clients (and other sources), as LSP diagnostics in the client's encoding.
local function foreign_diagnostics(bufnr, client)
  local own = vim.lsp.diagnostic.get_namespace(client.id)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.namespace ~= own then
      local function pos(l, c)
        local text = line_text(bufnr, l)
        local ok, ch = pcall(vim.str_utfindex, text, client.offset_encoding, math.min(c, #text), false)
        return { line = l, character = ok and ch or 0 }
      end
      out[#out + 1] = {
        range = { start = pos(d.lnum, d.col), ["end"] = pos(d.end_lnum or d.lnum, d.end_col or d.col) },
        severity = d.severity,
        message = d.message,
        source = d.source,
      }
    end
  end
  return out
end

local function keymaps(state)
  local km = cfg().keymaps
  local bufnr = state.bufnr
  local function fallthrough(key, mode)
    local orig = vim.fn.maparg(key, mode, false, true)
    return function()
      if orig.callback then
        local r = orig.callback()
        if orig.expr == 1 and type(r) == "string" then
          vim.api.nvim_feedkeys(vim.keycode(r), orig.noremap == 1 and "ni" or "mi", false)
        end
      elseif orig.rhs and orig.rhs ~= "" then
        vim.api.nvim_feedkeys(vim.keycode(orig.rhs), orig.noremap == 1 and "ni" or "mi", false)
      else
        vim.api.nvim_feedkeys(vim.keycode(key), "ni", false)
      end
    end
  end
  local function map(key, action, desc)
    if not key then
      return
    end
    for _, mode in ipairs({ "i", "n" }) do
      local fall = fallthrough(key, mode)
      vim.keymap.set(mode, key, function()
        if not action() then
          fall()
        end
      end, { buffer = bufnr, desc = desc })
    end
  end
  map(km.accept, function() return M.accept(bufnr) end, "zeta2: jump to / apply the suggestion")
  map(km.accept_word, function() return M.accept_partial(bufnr, "word") end, "zeta2: apply the next word")
  map(km.accept_line, function() return M.accept_partial(bufnr, "line") end, "zeta2: apply the next line")
end

--- Hooks a buffer up to a zeta2 client: triggers, forwarding, keys. Called from LspAttach.
function M.attach(bufnr, client)
  if M.buffers[bufnr] then
    M.buffers[bufnr].client_id = client.id
    return
  end
  define_highlights()
  local state = new_state(bufnr, client.id)
  M.buffers[bufnr] = state
  keymaps(state)
  local function au(events, fn)
    vim.api.nvim_create_autocmd(events, { group = augroup, buffer = bufnr, callback = fn })
  end
  au("InsertLeave", function()
    if state.skip_leave then
      state.skip_leave = false
      return
    end
    if cfg().triggers.insert_leave then
      M.request(bufnr)
    end
  end)
  au("TextChanged", function()
    on_text_changed(state)
    -- Also after the plugin's own accept: the daemon answers with the follow-up edit.
    if cfg().triggers.normal_change then
      M.request(bufnr)
    end
  end)
  au("TextChangedI", function()
    on_text_changed(state)
    schedule_idle_request(state)
  end)
  au({ "CursorMoved", "CursorMovedI" }, function()
    local c = client_for(bufnr)
    if c then
      c:notify("zeta2/cursor", {
        textDocument = { uri = vim.uri_from_bufnr(bufnr) },
        position = lsp_position(bufnr, c),
      })
    end
    if state.suggestion and vim.fn.mode() == "n" then
      draw(state) -- the jump hint follows the cursor
    end
  end)
  au({ "BufEnter", "FocusGained" }, function()
    local c = client_for(bufnr)
    if c then
      c:notify("textDocument/didFocus", { textDocument = { uri = vim.uri_from_bufnr(bufnr) } })
    end
  end)
  au("DiagnosticChanged", function()
    local c = client_for(bufnr)
    if c and cfg().forward_diagnostics then
      c:notify("zeta2/diagnostics", {
        textDocument = { uri = vim.uri_from_bufnr(bufnr) },
        diagnostics = foreign_diagnostics(bufnr, c),
      })
    end
  end)
  au({ "BufUnload", "BufWipeout" }, function()
    if state.timer then
      state.timer:stop()
      state.timer:close()
      state.timer = nil
    end
    M.buffers[bufnr] = nil
  end)
  if vim.api.nvim_get_current_buf() == bufnr then
    client:notify("textDocument/didFocus", { textDocument = { uri = vim.uri_from_bufnr(bufnr) } })
  end
  log.info("attached buffer %d to client %d", bufnr, client.id)
end

function M.detach(bufnr)
  local state = M.buffers[bufnr]
  if state then
    clear(state)
  end
end

--- `:Zeta2 enable|disable`
function M.set_enabled(on)
  cfg().enabled = on
  if not on then
    for bufnr in pairs(M.buffers) do
      M.reject(bufnr, "disabled")
    end
  end
  log.info("suggestions %s", on and "enabled" or "disabled")
end

--- `:Zeta2 capture on|off`: tells every zeta2 daemon through workspace/didChangeConfiguration.
function M.set_capture(on)
  local opts = cfg()
  opts.init_options = vim.tbl_deep_extend("force", opts.init_options or {}, { capture = { enabled = on } })
  for _, client in ipairs(vim.lsp.get_clients({ name = "zeta2" })) do
    client.settings = vim.tbl_deep_extend("force", client.settings or {}, { zeta2 = { capture = { enabled = on } } })
    client:notify("workspace/didChangeConfiguration", { settings = client.settings })
  end
  log.info("capture %s", on and "on" or "off")
end

--- Lines describing the plugin and each daemon's latest status (for :Zeta2 status and :checkhealth).
function M.status_lines()
  local lines = { string.format("zeta2: suggestions %s", cfg().enabled and "enabled" or "disabled") }
  local clients = vim.lsp.get_clients({ name = "zeta2" })
  if #clients == 0 then
    lines[#lines + 1] = "daemon: not running (" .. table.concat(cfg().cmd, " ") .. ")"
  end
  for _, client in ipairs(clients) do
    local st = M.status[client.id] or {}
    lines[#lines + 1] = string.format(
      "daemon: client %d, model %s, device %s, capture %s, busy %s%s",
      client.id,
      tostring(st.model or "?"),
      tostring(st.device or "?"),
      st.capture == true and "on" or (st.capture == false and "off" or "?"),
      tostring(st.busy == true),
      type(st.lastError) == "table" and (", last error: " .. tostring(st.lastError.message)) or ""
    )
  end
  return lines
end

return M
