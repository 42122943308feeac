"""Landmark labels: the shipped catalogue, the head over CLIP embeddings, labelling with GPS checks."""
