"""Datasets on disk: the trajectory store (format `hjepa.data.format`, shard files
`hjepa.data.shards`, writing `hjepa.data.writer`, reading `hjepa.data.store`, the env facts it
records `hjepa.data.facts`) and training windows over it (`hjepa.data.windows`). Knows nothing of
models or envs."""
