"""Checks on the init part of the pipeline."""
