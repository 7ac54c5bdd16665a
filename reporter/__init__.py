"""reporter: public, verifiable transparency documentation generated from machine-learning models."""

__version__ = "0.1.0"
