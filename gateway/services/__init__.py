"""The rules of DESIGN §2, in plain functions over a connection (no Flask, no HTTP)."""
