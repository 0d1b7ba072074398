"""SQL as literal strings, one module per noun; driver errors become the gateway's own."""
