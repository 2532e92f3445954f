"""Fix trials: prove a diagnosed cause by training a fixed copy next to an untouched control."""
