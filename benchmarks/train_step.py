"""Training-step throughput of a small ViT I-JEPA on this machine, and the FLOP/s it achieves as a
fraction of a measured fp32 matmul peak.

    python benchmarks/train_step.py [--batch 64] [--repeats 7]
"""

import argparse

import torch
from torch.utils.flop_counter import FlopCounterMode

from common import ROOT, median_time, save
from hjepa.config import load_config
from hjepa.experiment import build_dataset, build_masks, build_model
from hjepa.train.data import make_loader
from hjepa.train.optim import build_optimizer
from hjepa.train.trainer import train_step

SMALL_VIT = [  # the reference "small ViT": dim 192, depth 6, 64x64 input, patch 8
    "data.image_size=64",
    "data.num_samples=512",
    "model.patch_size=8",
    "model.embed_dim=192",
    "model.depth=6",
    "model.num_heads=3",
    "model.pred_dim=96",
    "model.pred_depth=2",
]


def matmul_peak(n: int = 2048, repeats: int = 15) -> float:
    """Best of `repeats` fp32 n x n matmuls: the most this machine delivers."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return max(2 * n**3 / median_time(lambda: a @ b, 1, warmup=1) for _ in range(repeats))


def step_benchmark(overrides: list[str], batch: int, repeats: int) -> dict:
    cfg = load_config(
        ROOT / "configs/ijepa_shapes.yaml", SMALL_VIT + overrides + [f"train.batch_size={batch}"]
    )
    model = build_model(cfg)
    optimizer = build_optimizer(model, cfg.optim)
    loader = make_loader(build_dataset(cfg), build_masks(cfg), batch, 1, 0, 0, 0, 1)
    sample = next(iter(loader))
    device = torch.device("cpu")

    def step():
        train_step(model, model, optimizer, sample, cfg, 10, device, None)

    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    seconds = median_time(step, repeats)
    return {"flops_per_step": flops, "seconds": seconds, "params": _params(model)}


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    peak = matmul_peak()
    rows = []
    for label, overrides in [
        ("I-JEPA, EMA target", []),
        (
            "I-JEPA, no target + SIGReg 256",
            ["objective.target=none", "objective.regularizer=sigreg"],
        ),
        ("MAE baseline (75% masked)", ["model.kind=mae"]),
    ]:
        r = step_benchmark(overrides, args.batch, args.repeats)
        achieved = r["flops_per_step"] / r["seconds"]
        rows.append(
            {
                "model": label,
                "trainable params": r["params"],
                "batch": args.batch,
                "ms/step": 1000 * r["seconds"],
                "samples/s": args.batch / r["seconds"],
                "GFLOP/step": r["flops_per_step"] / 1e9,
                "GFLOP/s": achieved / 1e9,
                "% of matmul peak": 100 * achieved / peak,
            }
        )
    notes = (
        f"Measured fp32 matmul peak (best of 15 2048x2048 matmuls, {torch.get_num_threads()} "
        "threads): "
        f"{peak / 1e9:.1f} GFLOP/s. One step = forward, backward, gradient clipping, AdamW and "
        "the target update, as in the trainer; FLOPs counted by torch's FlopCounterMode "
        "(matmuls, convolutions, attention). Encoder: ViT dim 192, depth 6, 64x64 input, patch 8."
    )
    save("train_step", rows, notes)


if __name__ == "__main__":
    main()
