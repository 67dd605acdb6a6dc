-- Loaded at startup: the :Zeta2 command and the LspAttach hook. The plugin's modules load lazily.
if vim.g.loaded_zeta2 then
  return
end
vim.g.loaded_zeta2 = true

local group = vim.api.nvim_create_augroup("zeta2_plugin", { clear = true })
vim.api.nvim_create_autocmd("LspAttach", {
  group = group,
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == "zeta2" then
      require("zeta2").attach(args.buf, client)
    end
  end,
})
vim.api.nvim_create_autocmd("LspDetach", {
  group = group,
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == "zeta2" then
      require("zeta2").detach(args.buf)
    end
  end,
})

vim.api.nvim_create_user_command("Zeta2", function(cmd)
  require("zeta2.commands").run(cmd.fargs)
end, {
  nargs = "+",
  desc = "zeta2: status | enable | disable | capture on | capture off | log",
  complete = function(_, line)
    local words = vim.split(line, "%s+", { trimempty = true })
    if words[2] == "capture" and (#words > 2 or line:sub(-1) == " ") then
      return { "on", "off" }
    end
    return { "status", "enable", "disable", "capture", "log" }
  end,
})
