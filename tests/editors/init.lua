-- The test init for `nvim --headless --clean -u tests/editors/init.lua`: the plugin from this
-- checkout on the runtimepath, the test harness, a predictable screen.
local here = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h")
local repo = vim.fn.fnamemodify(here, ":h:h")
vim.opt.runtimepath:prepend(repo .. "/editors/nvim")
package.path = here .. "/lua/?.lua;" .. package.path
vim.o.swapfile = false
vim.o.shada = ""
vim.o.lines = 40
vim.o.columns = 120
vim.o.signcolumn = "yes"
vim.lsp.log.set_level(os.getenv("ZETA2_TEST_LSP_LOG") and "debug" or "warn")
-- Typed keys must give exactly the text a session expects: no automatic indenting.
vim.cmd("filetype indent off")
vim.o.autoindent = false
vim.o.smartindent = false
