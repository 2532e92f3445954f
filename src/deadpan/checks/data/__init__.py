"""Checks on the data part of the pipeline."""
