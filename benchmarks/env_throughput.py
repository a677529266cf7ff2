"""Frames per second of the vectorized TwoRooms simulator (stepping + rendering) at 64 x 64.

Run from the repository root: `python benchmarks/env_throughput.py`. Each timed call is
`STEPS` calls of `sim.step` with uniform random actions (precomputed), so a frame counts the
collision-resolved move, the Gaussian dot render, the wall channel copy and the true state.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_time, save  # noqa: E402
from hjepa.envs import make_sim  # noqa: E402

STEPS = 20
NUM_ENVS = (64, 256, 1024)
ENV_IDS = ("hjepa/TwoRooms-v0", "hjepa/TwoRoomsRandomWall-v0", "hjepa/Maze-v0")
TARGET_FPS = 20_000


def measure(env_id: str, num_envs: int) -> dict:
    """One row: time per vectorized step and frames per second for `num_envs` envs."""
    sim = make_sim(env_id, num_envs)
    sim.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-sim.max_norm, sim.max_norm, (STEPS, num_envs, 2)).astype(np.float32)

    def run():
        for a in actions:
            sim.step(a)

    seconds = median_time(run, repeats=5, warmup=1) / STEPS
    reset_seconds = median_time(lambda: sim.reset(), repeats=3, warmup=1)
    return {
        "env": env_id.split("/")[1],
        "num_envs": num_envs,
        "ms_per_step": seconds * 1e3,
        "frames_per_s": round(num_envs / seconds),
        "ms_per_reset": reset_seconds * 1e3,
    }


def main() -> None:
    torch.set_num_threads(2)
    rows = [measure(env_id, n) for env_id in ENV_IDS for n in NUM_ENVS]
    slowest = min(row["frames_per_s"] for row in rows)
    notes = (
        f"Step + render of N envs at 64 x 64, uint8 [N, 2, 64, 64] observations, {STEPS} steps "
        f"per timing, median of 5. Target >= {TARGET_FPS} frames/s on 2 cores; slowest row "
        f"{slowest:.0f} frames/s ({'meets' if slowest >= TARGET_FPS else 'BELOW'} target). "
        "Numpy only (no per-env Python loops in step); the dot is drawn in a 14 x 14 window."
    )
    save("env_throughput", rows, notes)


if __name__ == "__main__":
    main()
