"""Training on the user's data: the landmark head (data cleaning, training, evaluation)."""
