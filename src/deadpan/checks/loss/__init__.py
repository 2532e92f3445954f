"""Checks on the loss part of the pipeline."""
