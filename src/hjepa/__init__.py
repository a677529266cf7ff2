"""hjepa: Joint-Embedding Predictive Architectures, from encoders to world models."""

__version__ = "0.1.0"
