"""Indexing as generators of progress events: scan, whole-photo pass, parts pass."""
