"""The window's pages: library, search, clusters, projection, landmarks, settings."""
