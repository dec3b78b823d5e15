-- Headless Neovim attaches `asynclint server` to one file with vim.lsp and writes the
-- diagnostics it receives (row:col:code:message, one a line) to $ASL_OUT.
local file, out = os.getenv("ASL_FILE"), os.getenv("ASL_OUT")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local config = {
  name = "asynclint",
  cmd = { os.getenv("ASL_PYTHON"), "-m", "asynclint", "server" },
  root_dir = os.getenv("ASL_ROOT"),
}
local id
if vim.lsp.start then -- Neovim 0.8+
  id = vim.lsp.start(config)
else -- 0.7 (Debian 12's package): the same client, attached by hand
  id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(buf, id)
end
vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local lines = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = d.user_data and d.user_data.lsp or {}
  local message = d.message:gsub("\n", " ")
  table.insert(lines, string.format("%d:%d:%s:%s", d.lnum, d.col, d.code or lsp.code or "", message))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.wait(5000, function() return vim.lsp.get_client_by_id(id) == nil end, 50)
vim.cmd("qa!")
