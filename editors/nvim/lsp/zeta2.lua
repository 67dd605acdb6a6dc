-- `vim.lsp.enable("zeta2")` reads this: how to start zeta2-daemon and attach it.
-- `require("zeta2").setup(opts)` applies its options on top through vim.lsp.config("zeta2", ...).
return require("zeta2").lsp_config(require("zeta2.config").resolve({}))
