"""The rules of docs/rules.md, in plain functions over a connection (no Flask, no HTTP)."""
