"""Checks on the optim part of the pipeline."""
