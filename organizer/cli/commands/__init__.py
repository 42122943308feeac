"""One module per command group; each handler takes the library and the parsed arguments."""
