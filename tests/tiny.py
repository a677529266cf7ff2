"""Overrides that make the presets small enough for tests (a few ms per step)."""

TINY_IJEPA = [
    "data.num_samples=256",
    "data.image_size=16",
    "model.patch_size=4",
    "model.embed_dim=16",
    "model.depth=1",
    "model.num_heads=2",
    "model.pred_dim=16",
    "model.pred_depth=1",
    "train.batch_size=8",
    "train.steps=6",
    "train.progress=false",
    "train.tensorboard=false",
    "optim.warmup_steps=2",
]
