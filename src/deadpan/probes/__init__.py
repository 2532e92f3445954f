"""Probes run after the user's training, always on copies of the model: never on the user's own."""
