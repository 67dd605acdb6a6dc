-- setup() validation messages, and the lsp/zeta2.lua config that vim.lsp.enable("zeta2") reads.
return function()
  local zeta2 = require("zeta2")
  local out = { errors = {} }
  local cases = {
    { debounce_ms = "fast" },
    { debuonce_ms = 50 },
    { keymaps = { accept = 1 } },
    { keymaps = { tab = "<Tab>" } },
    { cmd = {} },
    { cmd = "zeta2-daemon" },
    { log_level = "loud" },
    { triggers = true },
    { sign_text = "" },
    "not a table",
  }
  for i, opts in ipairs(cases) do
    local ok, err = pcall(zeta2.setup, opts)
    out.errors[i] = ok and "accepted" or err
  end
  -- the defaults come from lsp/zeta2.lua on the runtimepath
  local base = vim.lsp.config["zeta2"]
  out.lsp_cmd = base.cmd
  out.lsp_root_markers = base.root_markers
  -- valid options apply
  zeta2.setup({ cmd = { "my-daemon", "--model", "/packs/x" }, debounce_ms = 10, keymaps = { accept_word = false } })
  out.applied_cmd = vim.lsp.config["zeta2"].cmd
  out.debounce = zeta2.config.debounce_ms
  out.accept_word = zeta2.config.keymaps.accept_word
  out.accept = zeta2.config.keymaps.accept
  return out
end
