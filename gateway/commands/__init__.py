"""Command groups of `skillgw` beyond gateway/cli.py, each attached to its `main` group."""
