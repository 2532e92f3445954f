"""Checks on the model part of the pipeline."""
