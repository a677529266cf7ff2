"""Two-Rooms world models from nothing: collect, train, evaluate; wall times and quality.

    python benchmarks/world_model.py [--only fixed|random|geodesic|generative|generative_time]

Each row is one fresh run of a preset (its trajectory store is deleted first, so collection is
timed too). Quality is measured on held-out episodes: probe RMSE of the agent position (Euclidean
distance, px on the 64 px frame), of the wall x and door y where the layout varies, and the
probed position error after a 16-step open-loop rollout. Targets: fixed wall <= 5 min with probe
<= 1 px and rollout <= 2 px; random wall <= 20 min with agent, wall and door <= 1 px. The
generative baseline (same encoder, action encoder and predictor, pixel loss) runs with the
JEPA's number of steps (`generative`, ~45 min) and with 160 steps (`generative_time`).
`geodesic` is the fixed-wall preset with the step-distance term (`world.geodesic_weight=3`),
for plain latent-energy planning (`benchmarks/planning.py --only latent`).
"""

import argparse
import shutil
import time

from common import RESULTS_DIR, ROOT, save
from hjepa.config import load_config
from hjepa.eval.world_model import evaluate_run
from hjepa.run_data import prepare_store
from hjepa.train.trainer import train

RUNS = ROOT / "runs" / "benchmarks"
PRESETS = {
    "fixed": ("JEPA, fixed wall", "configs/two_rooms.yaml", []),
    "random": ("JEPA, random wall", "configs/two_rooms_random_wall.yaml", []),
    "geodesic": (
        "JEPA, fixed wall, step-distance latent",
        "configs/two_rooms.yaml",
        ["world.geodesic_weight=3", "train.name=two_rooms_geodesic"],
    ),
    "generative": (
        "generative baseline, fixed wall, same steps",
        "configs/two_rooms.yaml",
        ["model.kind=world_model_generative", "train.name=two_rooms_generative"],
    ),
    "generative_time": (
        "generative baseline, fixed wall, 160 steps",
        "configs/two_rooms.yaml",
        [
            "model.kind=world_model_generative",
            "train.name=two_rooms_generative_time",
            # meant as the JEPA's wall time; measured at ~3.4 s per step (0.22 s for the JEPA),
            # 160 steps take ~3x the JEPA's 800-step training
            "train.steps=160",
            "optim.warmup_steps=20",
        ],
    ),
}


def train_from_nothing(path, overrides: list[str]) -> tuple[object, object, float, float]:
    """Delete the preset's run and store, then collect and train: (config, training result,
    collection seconds, training seconds)."""
    cfg = load_config(ROOT / path, [*overrides, f"train.run_dir={RUNS}", "train.progress=false"])
    shutil.rmtree(RUNS / cfg.train.name, ignore_errors=True)
    shutil.rmtree(RUNS / "data" / cfg.train.name, ignore_errors=True)
    start = time.perf_counter()
    prepare_store(cfg)
    collected = time.perf_counter()
    result = train(cfg)
    return cfg, result, collected - start, time.perf_counter() - collected


def run_preset(label: str, path: str, overrides: list[str]) -> dict:
    cfg, result, collect_s, train_s = train_from_nothing(path, overrides)
    ev = evaluate_run(result.run_dir)
    shutil.copy(
        result.run_dir / "eval" / "rollout_error.png", RESULTS_DIR / f"{cfg.train.name}.png"
    )
    probe = ev["probe_rmse"]["mlp"]
    return {
        "model": label,
        "preset": path,
        "collect s": collect_s,
        "train s": train_s,
        "collect + train s": collect_s + train_s,
        "probe px (linear)": ev["position_rmse"]["linear"],
        "probe px (MLP)": ev["position_rmse"]["mlp"],
        "16-step rollout px": ev["rollout_position_rmse"][-1],
        "wall x px": probe.get("wall_x", float("nan")),
        "door y px": probe.get("door_y", float("nan")),
        "collapse warnings": len(result.collapse_steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(PRESETS), action="append")
    args = parser.parse_args()
    name = "world_model" if not args.only else "world_model_" + "_".join(args.only)
    rows = []
    for preset in args.only or PRESETS:
        rows.append(run_preset(*PRESETS[preset]))
        save(name, rows, NOTES)  # after every row, so an interrupted run keeps what it measured


NOTES = (
    "Wall times on 2 CPU cores, fp32, nothing else running. Probes are fitted on training "
    "episodes and scored on held-out ones (10 % of episodes); `wall x` / `door y` are the "
    "MLP probe's RMSE for the layout (only varies in the random-wall preset). Rollout error "
    "plots: `benchmarks/results/<preset name>.png`."
)


if __name__ == "__main__":
    main()
