import os

import pytest
import torch

from hjepa.config import load_config
from tiny import TINY_IJEPA

os.environ.setdefault("MUJOCO_GL", "egl")  # MuJoCo envs draw off-screen (read when mujoco loads)


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture
def tiny_config(tmp_path):
    """A config small enough to train a few steps in well under a second (in fp32: `auto`
    would time both precisions, and two runs could choose differently on a busy machine)."""

    def make(*overrides):
        cadence = ["train.log_every=1", "train.monitor_every=3", "train.checkpoint_every=3"]
        cadence.append("train.precision=fp32")
        run_dir = f"train.run_dir={tmp_path / 'runs'}"
        return load_config(None, [*TINY_IJEPA, *cadence, run_dir, *overrides])

    return make
