"""Evaluation protocols that need whole pipelines and data sets (above pipelines and data)."""
