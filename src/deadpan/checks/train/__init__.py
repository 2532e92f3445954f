"""Checks on the train part of the pipeline."""
