"""Two `torchrun` processes on gloo update the model exactly like one process with both batches."""

import subprocess
import sys

import pytest
import torch

from hjepa.checkpoint import load_checkpoint
from tiny import TINY_IJEPA

TINY = [*TINY_IJEPA, "data.num_samples=64", "train.steps=3", "optim.warmup_steps=1"]


def run(args, run_dir, name, batch, overrides):
    cmd = [*args, "configs/ijepa_shapes.yaml", *TINY, *overrides]
    cmd += [f"train.run_dir={run_dir}", f"train.name={name}", f"train.batch_size={batch}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return load_checkpoint(run_dir / name / "checkpoints" / "last.pt")


@pytest.mark.slow
@pytest.mark.parametrize(
    "objective",
    [
        ["objective.target=none", "objective.regularizer=vicreg"],
        ["objective.target=ema", "objective.regularizer=sigreg"],
    ],
)
def test_two_gloo_processes_match_one_process_with_the_combined_batch(tmp_path, objective):
    one = run([sys.executable, "-m", "hjepa", "train"], tmp_path, "one", 8, objective)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    torchrun += ["--standalone", "-m", "hjepa", "train"]
    two = run(torchrun, tmp_path, "two", 4, objective)
    assert len(two["rng"]) == 2
    for key, value in one["model"].items():
        if value.is_floating_point():
            assert torch.allclose(value, two["model"][key], atol=1e-5, rtol=1e-4), key
