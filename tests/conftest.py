import pytest
import torch

from hjepa.config import load_config


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture
def tiny_config(tmp_path):
    """A config small enough to train a few steps in well under a second."""

    def make(*overrides):
        base = [
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
            "train.log_every=1",
            "train.monitor_every=3",
            "train.checkpoint_every=3",
            "train.progress=false",
            "train.tensorboard=false",
            "optim.warmup_steps=2",
            f"train.run_dir={tmp_path / 'runs'}",
        ]
        return load_config(None, base + list(overrides))

    return make
