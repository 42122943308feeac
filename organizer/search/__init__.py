"""Search: the in-memory vector index, keyword search and ranking."""
