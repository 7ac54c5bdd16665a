"""Training and loading models. The only part of reporter that imports torch and transformers."""
