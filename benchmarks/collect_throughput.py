"""End-to-end collection speed: TwoRooms at 64x64, random-walk policy, simulation + writing.

Run from the repo root: `python benchmarks/collect_throughput.py [--episodes N] [--repeats R]`.
Each configuration collects into a fresh temporary store (deleted afterwards) and reports the
best of `repeats` runs (the machine may be shared). A "sim + policy only" row times the
simulator and policy alone in this process (no writing), to show where the time goes.
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from common import save
from hjepa.envs import make_sim
from hjepa.envs.collect import collect, door_crossing_fraction, run_episodes
from hjepa.envs.policies import load_policy

ENV = "hjepa/TwoRooms-v0"
STEPS = 91


def time_collect(episodes: int, workers: int, repeats: int) -> dict:
    best, crossing = float("inf"), None
    for _ in range(repeats):
        folder = Path(tempfile.mkdtemp(prefix="hjepa_bench_"))
        try:
            start = time.perf_counter()
            store = collect(ENV, folder / "store", episodes, STEPS, workers=workers, progress=False)
            best = min(best, time.perf_counter() - start)
            crossing = door_crossing_fraction(store)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    frames = episodes * (STEPS + 1)
    return {
        "what": "collect + write",
        "workers": workers,
        "episodes": episodes,
        "frames": frames,
        "seconds": best,
        "frames/s": round(frames / best),
        "MB/s written": frames * 2 * 64 * 64 / best / 1e6,
        "door crossing": crossing,
    }


def time_sim(num_envs: int = 128, seconds: float = 3.0) -> dict:
    sim = make_sim(ENV, num_envs)
    policy = load_policy("random_walk", max_norm=sim.max_norm)
    rng = np.random.default_rng(0)
    run_episodes(sim, policy, rng, 5)
    start, batches = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        run_episodes(sim, policy, rng, STEPS)
        batches += 1
    elapsed = time.perf_counter() - start
    frames = batches * num_envs * (STEPS + 1)
    row = {"what": "sim + policy only", "workers": 1, "frames": frames, "seconds": elapsed}
    return {**row, "frames/s": round(frames / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [time_sim()]
    rows += [time_collect(args.episodes, workers, args.repeats) for workers in (1, 2)]
    notes = (
        f"{ENV}, 64x64x2 uint8 frames, {STEPS} steps per episode, policy random_walk, "
        f"envs_per_worker=128, shard_episodes=256; best of {args.repeats} runs, wall time from "
        "the call to collect() to the opened store (process start-up included). "
        "Target: >= 20,000 frames/s on 2 cores."
    )
    save("collect_throughput", rows, notes)


if __name__ == "__main__":
    main()
