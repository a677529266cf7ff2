"""Training-step throughput of small ViT I-JEPA / MAE / V-JEPA models on this machine, in fp32
and (where the CPU has bf16 units) bf16 autocast, and the FLOP/s each achieves as a fraction of a
matmul peak measured here in the same precision.

    python benchmarks/train_step.py [--batch 64] [--repeats 7] [--only I-JEPA]

Table `train_step` (another batch size: `train_step_batch<N>`); `--only` keeps the models whose
label contains the text.
"""

import argparse

import torch

from common import ROOT, median_time, save, step_flops, training_step
from hjepa.config import load_config
from hjepa.train.precision import cpu_has_bf16

SMALL_VIT = [  # the reference "small ViT": dim 192, depth 6, 64x64 input, patch 8: 64 tokens
    "data.image_size=64",
    "data.num_samples=512",
    "model.patch_size=8",
    "model.embed_dim=192",
    "model.depth=6",
    "model.num_heads=3",
    "model.pred_dim=96",
    "model.pred_depth=2",
]
# the same ViT on clips: 16 frames of 32 px, tubelets 2 x 8 x 8: 8 x 4 x 4 = 128 tokens
SMALL_VIDEO = [*SMALL_VIT[1:], "data.image_size=32", "data.frames=16", "model.tubelet=2"]
IMAGES, VIDEO = (
    ("configs/ijepa_shapes.yaml", SMALL_VIT),
    ("configs/vjepa_moving_objects.yaml", SMALL_VIDEO),
)
MODELS = [
    ("I-JEPA, EMA target", IMAGES, ["objective.regularizer=none"]),
    ("I-JEPA, EMA + SIGReg 256 (the preset's objective)", IMAGES, []),
    ("I-JEPA, no target + SIGReg 256", IMAGES, ["objective.target=none"]),
    ("MAE baseline (75% masked)", IMAGES, ["model.kind=mae"]),
    ("V-JEPA, EMA target, tube masks", VIDEO, ["objective.regularizer=none"]),
    ("pixel video prediction, tube masks", VIDEO, ["model.kind=video_generative"]),
]


def matmul_peak(dtype=torch.float32, n: int = 2048, repeats: int = 15) -> float:
    """Best of `repeats` n x n matmuls in `dtype`: the most this machine delivers."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return max(2 * n**3 / median_time(lambda: a @ b, 1, warmup=1) for _ in range(repeats))


def step_benchmark(model: tuple, overrides: list[str], batch: int, repeats: int) -> dict:
    preset, sizes = model
    cfg = load_config(ROOT / preset, [*sizes, *overrides, f"train.batch_size={batch}"])
    step, model = training_step(cfg)
    flops = step_flops(cfg)
    seconds = median_time(step, repeats)
    return {"flops_per_step": flops, "seconds": seconds, "params": _params(model)}


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", default="", help="models whose label contains this")
    args = parser.parse_args()
    precisions = {"fp32": torch.float32}
    if cpu_has_bf16():
        precisions["bf16"] = torch.bfloat16
    peaks = {name: matmul_peak(dtype) for name, dtype in precisions.items()}
    rows = []
    for label, model, overrides in [m for m in MODELS if args.only in m[0]]:
        fp32_seconds = None
        for name in precisions:
            precision = f"train.precision={name}"
            r = step_benchmark(model, [*overrides, precision], args.batch, args.repeats)
            fp32_seconds = fp32_seconds or r["seconds"]
            achieved = r["flops_per_step"] / r["seconds"]
            rows.append(
                {
                    "model": label,
                    "precision": name,
                    "trainable params": r["params"],
                    "batch": args.batch,
                    "ms/step": 1000 * r["seconds"],
                    "samples/s": args.batch / r["seconds"],
                    "GFLOP/step": r["flops_per_step"] / 1e9,
                    "GFLOP/s": achieved / 1e9,
                    "% of matmul peak": 100 * achieved / peaks[name],
                    "x fp32 speed": fp32_seconds / r["seconds"],
                }
            )
    measured = ", ".join(f"{name} {peak / 1e9:.1f} GFLOP/s" for name, peak in peaks.items())
    notes = (
        f"Measured matmul peaks (best of 15 2048x2048 matmuls, {torch.get_num_threads()} "
        f"threads): {measured}; each row's % is of its own precision's peak. One step = forward, "
        "backward, gradient clipping, AdamW and the target update, as in the trainer; FLOPs "
        "counted by torch's FlopCounterMode (matmuls, convolutions, attention). Encoder: ViT dim "
        "192, depth 6, 64x64 images in patches of 8 (64 tokens), or 16 frames of 32 px in "
        "tubelets of 2 x 8 x 8 (128 tokens)."
    )
    save("train_step" if args.batch == 64 else f"train_step_batch{args.batch}", rows, notes)


if __name__ == "__main__":
    main()
