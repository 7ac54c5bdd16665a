"""Extractors: loaded models, checkpoints and data in, typed facts out. They never render."""
