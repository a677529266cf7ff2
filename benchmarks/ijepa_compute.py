"""The seed's Figure-1 claim at small scale: linear-probe accuracy against training compute for
I-JEPA, MAE (masked pixel reconstruction), a deterministic generative model (the pixels of
I-JEPA's own target blocks) and an autoencoder, with the same ViT encoder and the same images.

    python benchmarks/ijepa_compute.py [--data clutter] [--budgets 250,500,1000,2000]
        [--seeds 0,1,2] [--reuse]

Every method trains at every budget (optimizer steps of the preset's batch, each with its own
full learning-rate schedule); the largest budget runs for every seed, the others for the first.
Compute is measured two ways: wall time of training on this machine, and FLOPs (torch's
FlopCounterMode on one training step: matmuls, convolutions, attention; times the steps).
Accuracy: a linear probe (`hjepa eval --probe linear`) on the frozen encoder's mean-pooled
tokens, fitted on the training images and scored on the held-out test images.

Target: I-JEPA reaches MAE's best accuracy with at most half of MAE's compute there.
Runs go to runs/benchmarks/ijepa_compute/; `--reuse` keeps a finished run of the same config.
"""

import argparse
import json
import time

import numpy as np

from common import RESULTS_DIR, ROOT, mean_std, save, step_flops
from hjepa.config import load_config
from hjepa.eval.images import evaluate_image_run
from hjepa.train.trainer import train

PRESET = "configs/ijepa_shapes.yaml"
RUNS = ROOT / "runs" / "benchmarks" / "ijepa_compute"
METHODS = {
    "I-JEPA": ["model.kind=ijepa"],
    "MAE": ["model.kind=mae", "mask.mask_ratio=0.75"],
    "generative": ["model.kind=generative"],
    "autoencoder": ["model.kind=autoencoder"],
}


def config(method: str, data: str, steps: int, seed: int):
    name = f"{method.lower().replace('-', '')}_{data}_{steps}_{seed}"
    where = [f"train.run_dir={RUNS}", f"train.name={name}", "train.progress=false"]
    rest = ["train.tensorboard=false", f"train.seed={seed}", f"train.steps={steps}"]
    return load_config(PRESET, [*METHODS[method], f"data.source={data}", *where, *rest])


def run(method: str, data: str, steps: int, seed: int, reuse: bool) -> dict:
    """Train and probe one run: linear-probe accuracy (%) and seconds of training."""
    cfg = config(method, data, steps, seed)
    folder = RUNS / cfg.train.name
    timing, scored = folder / "timing.json", folder / "eval" / "eval.json"
    finished = timing.is_file() and scored.is_file()
    if reuse and finished and load_config(folder / "config.yaml") == cfg:
        accuracy = json.loads(scored.read_text())["probe_accuracy"]["linear"]
        return {"accuracy": 100 * accuracy, **json.loads(timing.read_text())}
    start = time.perf_counter()
    train(cfg, overwrite=True)
    seconds = time.perf_counter() - start
    timing.write_text(json.dumps({"train_s": seconds}))
    accuracy = evaluate_image_run(folder, ("linear",))["probe_accuracy"]["linear"]
    return {"accuracy": 100 * accuracy, "train_s": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="clutter", help="data.source of the images")
    parser.add_argument("--budgets", default="250,500,1000,2000", help="training steps")
    parser.add_argument("--seeds", default="0,1,2", help="seeds at the largest budget")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    budgets = sorted(int(b) for b in args.budgets.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    rows, points = [], {}
    for method in METHODS:
        gflop_per_step = step_flops(config(method, args.data, 1, 0)) / 1e9
        for steps in budgets:
            runs = [
                run(method, args.data, steps, seed, args.reuse)
                for seed in (seeds if steps == budgets[-1] else seeds[:1])
            ]
            accuracy = [r["accuracy"] for r in runs]
            train_s = float(np.median([r["train_s"] for r in runs]))
            points.setdefault(method, []).append((gflop_per_step * steps, np.mean(accuracy)))
            rows.append(
                {
                    "method": method,
                    "steps": steps,
                    "TFLOP": round(gflop_per_step * steps / 1e3, 2),
                    "train s": round(train_s),
                    "linear probe (%)": mean_std(accuracy),
                    "seeds": len(runs),
                }
            )
    verdict = _verdict(points)
    _plot(points, args.data)
    cfg = config("I-JEPA", args.data, budgets[-1], 0)
    m = cfg.model
    notes = (
        f"Data `{args.data}`: {cfg.data.num_samples} training and {cfg.data.test_samples} test "
        f"images of {cfg.data.image_size} px. Encoder: ViT width {m.embed_dim}, depth {m.depth}, "
        f"patch {m.patch_size}; batch {cfg.train.batch_size}. Linear probe on mean-pooled "
        "frozen features. ± is the std over seeds (largest budget only). Plot: "
        f"`ijepa_compute_{args.data}.png`."
    )
    save(f"ijepa_compute_{args.data}", rows, notes=notes, footer=verdict, extra={"points": points})


def _verdict(points: dict) -> str:
    """The compute at which I-JEPA first reaches MAE's best accuracy, against MAE's there."""
    mae_flops, mae_best = max(points["MAE"], key=lambda p: p[1])
    reached = [flops for flops, acc in points["I-JEPA"] if acc >= mae_best]
    if not reached:
        best = max(acc for _, acc in points["I-JEPA"])
        return (
            f"MAE's best: {mae_best:.1f} % at {mae_flops / 1e3:.2f} TFLOP. I-JEPA's best "
            f"{best:.1f} % does not reach it at any budget: target **not met**."
        )
    ratio = min(reached) / mae_flops
    met = "met" if ratio <= 0.5 else "not met"
    return (
        f"MAE's best: {mae_best:.1f} % at {mae_flops / 1e3:.2f} TFLOP; I-JEPA reaches it at "
        f"{min(reached) / 1e3:.2f} TFLOP = {ratio:.2f}x MAE's compute: target (<= 0.5x) **{met}**."
    )


def _plot(points: dict, data: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method, curve in points.items():
        flops, accuracy = zip(*curve, strict=True)
        ax.plot(np.array(flops) / 1e3, accuracy, marker="o", label=method)
    ax.set(xscale="log", xlabel="training compute (TFLOP)", ylabel="linear probe accuracy (%)")
    ax.set_title(f"Accuracy against compute ({data})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS_DIR / f"ijepa_compute_{data}.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
