"""asynclint in the editor: `asynclint server` (the language server, in `lsp`, which needs
the `server` extra) over an in-memory project (`workspace`), and the one adapter to the
linter both use (`pipeline`)."""
