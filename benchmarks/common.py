"""Shared by every benchmark: timing, the machine, results saved as JSON + a markdown table."""

import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from hjepa.experiment import build_dataset, build_model
from hjepa.masking import build_masks
from hjepa.runtime import autocast_dtype
from hjepa.train.data import make_loader
from hjepa.train.optim import build_optimizer
from hjepa.train.trainer import train_step

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
NO_CRITIC = ["cost.critic_weight=0", "cost.energy_weight=1"]  # agent overrides: plain latent energy


def median_time(fn, repeats: int = 7, warmup: int = 2) -> float:
    """Median wall time of `fn()` in seconds over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_step(cfg):
    """(step, model): `step()` runs one training step of the config's model as the trainer does
    (forward, backward, clipping, AdamW, target update) on one fixed batch, on the CPU, in
    `train.precision`."""
    model = build_model(cfg)
    optimizer = build_optimizer(model, cfg.optim)
    loader = make_loader(build_dataset(cfg), build_masks(cfg), cfg.train.batch_size, 1, 0, 0, 0, 1)
    batch, cpu = next(iter(loader)), torch.device("cpu")
    amp = autocast_dtype(cfg.train.precision, cpu)

    def step():
        train_step(model, model, optimizer, batch, cfg, 10, cpu, amp)

    return step, model


def step_flops(cfg) -> int:
    """FLOPs of one training step (torch's FlopCounterMode: matmuls, convolutions, attention)."""
    step, _ = training_step(cfg)
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def mean_std(values: list[float]) -> str:
    """Mean ± std of `values` (one decimal), or the value alone."""
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{np.mean(values):.1f} ± {np.std(values):.1f}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    threads = torch.get_num_threads()
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} threads"


def save(
    name: str, rows: list[dict], notes: str = "", footer: str = "", extra: dict | None = None
) -> Path:
    """Print `rows` as a markdown table and write results/<name>.json and results/<name>.md;
    `notes` go above the table, `footer` below it, `extra` (more JSON entries) only to the JSON."""
    RESULTS_DIR.mkdir(exist_ok=True)
    header = {
        "command": "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "machine": machine(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [f"# {name}", "", *(f"- {k}: `{v}`" for k, v in header.items()), ""]
    if notes:
        lines += [notes, ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    if footer:
        lines += ["", footer]
    table = "\n".join(lines) + "\n"
    print(table)
    (RESULTS_DIR / f"{name}.json").write_text(
        json.dumps({**header, "rows": rows, **(extra or {})}, indent=2) + "\n"
    )
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(table)
    return path


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
