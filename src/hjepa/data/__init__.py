"""Datasets on disk: the trajectory store (`hjepa.data.store`) and training windows over it
(`hjepa.data.windows`). Knows nothing of models."""
