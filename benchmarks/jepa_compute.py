"""The seed's Figure-1 claim at small scale: probe accuracy against training compute for JEPA
and the pixel-space objectives, with the same ViT encoder and the same data.

    python benchmarks/jepa_compute.py [--modality image|video] [--data shapes]
        [--budgets 125,250,500,1000] [--seeds 0,1,2] [--reuse]

- image: I-JEPA, MAE (masked pixel reconstruction, 75 % random masks), a deterministic generative
  model (the pixels of I-JEPA's own target blocks) and an autoencoder; linear probe of the class.
- video: V-JEPA (tube masks), V-JEPA predicting future frames, and pixel-space video prediction
  (the target tubelets' pixels under V-JEPA's masks); linear probes of the object's class and
  of its direction (8 bins), and the test R^2 of ridge probes of speed and of bounce count.

Every method trains at every budget (optimizer steps of the preset's batch, each with its own
full learning-rate schedule); the largest budget runs for every seed, the others for the first.
Compute is measured two ways: wall time of training on this machine, and FLOPs (torch's
FlopCounterMode on one training step: matmuls, convolutions, attention; times the steps).
Probes are fitted on the frozen encoder's mean-pooled tokens of the training split and scored
on the test split (`hjepa eval`).

Target: JEPA reaches the pixel method's best class accuracy (MAE's for images, pixel
prediction's for video) with at most half of that method's compute there.
Runs go to runs/benchmarks/<modality>_compute/; `--reuse` keeps a finished run of the same config.
"""

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from common import RESULTS_DIR, ROOT, mean_std, save, step_flops
from hjepa.config import load_config
from hjepa.eval.images import evaluate_image_run
from hjepa.train.trainer import train

MODALITIES = {
    "image": {
        "preset": "configs/ijepa_shapes.yaml",
        "data": "shapes",
        "samples": 10000,  # training images, also what the probes are fitted on
        "methods": {
            "I-JEPA": ["model.kind=ijepa"],
            "MAE": ["model.kind=mae", "mask.mask_ratio=0.75"],
            "generative": ["model.kind=generative"],
            "autoencoder": ["model.kind=autoencoder"],
        },
        "reference": "MAE",
    },
    "video": {
        "preset": "configs/vjepa_moving_objects.yaml",
        "data": "moving_objects",
        "samples": 4000,
        "methods": {
            "V-JEPA": ["model.kind=vjepa"],
            "V-JEPA, future frames": ["model.kind=vjepa", "mask.video=future"],
            "pixel prediction": ["model.kind=video_generative"],
        },
        "reference": "pixel prediction",
    },
}


def config(modality: str, method: str, data: str, steps: int, seed: int):
    spec = MODALITIES[modality]
    name = re.sub(r"[^a-z0-9]+", "_", method.lower().replace("-", ""))
    where = [f"train.run_dir={runs_dir(modality)}", f"train.name={name}_{data}_{steps}_{seed}"]
    rest = ["train.progress=false", "train.tensorboard=false", f"train.seed={seed}"]
    sizes = [f"train.steps={steps}", f"data.source={data}", f"data.num_samples={spec['samples']}"]
    return load_config(spec["preset"], [*spec["methods"][method], *where, *rest, *sizes])


def runs_dir(modality: str):
    return ROOT / "runs" / "benchmarks" / f"{'i' if modality == 'image' else 'v'}jepa_compute"


def run(cfg, reuse: bool) -> dict:
    """Train and probe one run: its scores (%, R^2) and seconds of training."""
    folder = Path(cfg.train.run_dir) / cfg.train.name
    timing, scored = folder / "timing.json", folder / "eval" / "eval.json"
    finished = timing.is_file() and scored.is_file()
    if reuse and finished and load_config(folder / "config.yaml") == cfg:
        return {**scores(json.loads(scored.read_text())), **json.loads(timing.read_text())}
    start = time.perf_counter()
    train(cfg, overwrite=True)
    seconds = time.perf_counter() - start
    timing.write_text(json.dumps({"train_s": seconds}))
    return {**scores(evaluate_image_run(folder, ("linear",))), "train_s": seconds}


def scores(result: dict) -> dict:
    """The columns of one evaluation: class accuracy (%), other labels' accuracy (%), R^2."""
    out = {"class (%)": 100 * result["probe_accuracy"]["linear"]}
    for label, accuracy in result["other_labels"].items():
        out[f"{label.removesuffix('_class')} (%)"] = 100 * accuracy["linear"]
    for factor in ("speed", "bounces"):
        if factor in result["factor_r2"]:
            out[f"{factor} R^2"] = result["factor_r2"][factor]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modality", choices=tuple(MODALITIES), default="image")
    parser.add_argument("--data", help="data.source (default: shapes / moving_objects)")
    parser.add_argument("--budgets", default="125,250,500,1000", help="training steps")
    parser.add_argument("--seeds", default="0,1,2", help="seeds at the largest budget")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    spec, modality = MODALITIES[args.modality], args.modality
    data = args.data or spec["data"]
    budgets = sorted(int(b) for b in args.budgets.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    rows, points = [], {}
    for method in spec["methods"]:
        gflop_per_step = step_flops(config(modality, method, data, 1, 0)) / 1e9
        for steps in budgets:
            chosen = seeds if steps == budgets[-1] else seeds[:1]
            runs = [run(config(modality, method, data, steps, s), args.reuse) for s in chosen]
            row = {"method": method, "steps": steps, "TFLOP": gflop_per_step * steps / 1e3}
            row["train s"] = round(float(np.median([r["train_s"] for r in runs])))
            for column in runs[0]:
                if column != "train_s":
                    row[column] = _spread(column, [r[column] for r in runs])
            row["seeds"] = len(runs)
            rows.append(row)
            accuracy = float(np.mean([r["class (%)"] for r in runs]))
            points.setdefault(method, []).append((gflop_per_step * steps, accuracy))
    name = f"{'i' if modality == 'image' else 'v'}jepa_compute_{data}"
    jepa = next(iter(spec["methods"]))
    verdict = _verdict(points, jepa, spec["reference"])
    _plot(points, data, name)
    cfg = config(modality, jepa, data, budgets[-1], 0)
    m = cfg.model
    notes = (
        f"Data `{data}`: {cfg.data.num_samples} training and {cfg.data.test_samples} test "
        f"samples of {cfg.data.image_size} px. Encoder: ViT width {m.embed_dim}, depth "
        f"{m.depth}, patch {m.patch_size}; batch {cfg.train.batch_size}. Linear probes (ridge "
        "for R^2) on mean-pooled frozen features of the test split. ± is the std over seeds "
        f"(largest budget only). Plot: `{name}.png`."
    )
    save(name, rows, notes=notes, footer=verdict, extra={"points": points})


def _spread(column: str, values: list[float]) -> str:
    if column.endswith("R^2"):
        text = f"{np.mean(values):.2f}"
        return text if len(values) == 1 else f"{text} ± {np.std(values):.2f}"
    return mean_std(values)


def _verdict(points: dict, jepa: str, reference: str) -> str:
    """The compute at which JEPA first reaches the reference's best accuracy, against the
    reference's compute there."""
    ref_flops, ref_best = max(points[reference], key=lambda p: p[1])
    reached = [flops for flops, acc in points[jepa] if acc >= ref_best]
    if not reached:
        best = max(acc for _, acc in points[jepa])
        return (
            f"{reference}'s best class accuracy: {ref_best:.1f} % at {ref_flops / 1e3:.2f} TFLOP. "
            f"{jepa}'s best, {best:.1f} %, does not reach it at any budget: target **not met**."
        )
    ratio = min(reached) / ref_flops
    met = "met" if ratio <= 0.5 else "not met"
    return (
        f"{reference}'s best class accuracy: {ref_best:.1f} % at {ref_flops / 1e3:.2f} TFLOP; "
        f"{jepa} reaches it at {min(reached) / 1e3:.2f} TFLOP = {ratio:.2f}x that compute: "
        f"target (<= 0.5x) **{met}**."
    )


def _plot(points: dict, data: str, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method, curve in points.items():
        flops, accuracy = zip(*curve, strict=True)
        ax.plot(np.array(flops) / 1e3, accuracy, marker="o", label=method)
    ax.set(xscale="log", xlabel="training compute (TFLOP)", ylabel="class, linear probe (%)")
    ax.set_title(f"Accuracy against compute ({data})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS_DIR / f"{name}.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
