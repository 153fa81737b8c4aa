-- rbic in Neovim (0.10 or later): put this file in ~/.config/nvim/plugin/ (or require it from
-- init.lua). It recognises *.rb.ic files and starts `rbic lsp` for them, rooted at the nearest
-- directory with canister_ids.json, icp.yaml, dfx.json or .git: diagnostics as you type, hover
-- (K), completion (<C-x><C-o>), go-to-definition (gd with your mappings, or vim.lsp.buf.definition),
-- document symbols and formatting (vim.lsp.buf.format()).
vim.filetype.add({ pattern = { [".*%.rb%.ic"] = "rbic" } })

vim.api.nvim_create_autocmd("FileType", {
  pattern = "rbic",
  callback = function(args)
    local root = vim.fs.root(args.buf, { "canister_ids.json", "icp.yaml", "dfx.json", ".git" })
    vim.lsp.start({
      name = "rbic",
      cmd = { "rbic", "lsp" },
      root_dir = root or vim.fs.dirname(vim.api.nvim_buf_get_name(args.buf)),
    })
    vim.bo[args.buf].commentstring = "# %s"
    vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc"
  end,
})
