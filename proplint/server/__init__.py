"""The language server (`proplint server`): `lsp` speaks LSP over stdio (pygls) and hands every analysis
to `worker`, which runs in a process of its own. Importing this package imports neither."""
