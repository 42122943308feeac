"""Finding, reading, identifying and decoding photo files. No models, no database."""
