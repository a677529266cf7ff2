"""Which precision a run trains in: `train.precision` fp32, bf16, or `auto`, the faster one here.

On CUDA and MPS `auto` is bf16 autocast. On a CPU it depends on the chip and on the model: CPUs
with bf16 units (AVX512-BF16, AMX) run large bf16 matmuls several times faster than fp32, those
without run them far slower, and for a small model the casts autocast adds can cost more than the
matmuls save. So on a CPU that has bf16 units, `auto` times a forward and backward pass of the
model in both precisions on the first batch (on a copy of the model, so training is untouched)
and keeps bf16 only if it is clearly faster. Passes under MIN_MEASURED_SECONDS stay fp32: the
gain could not matter and the timing would be noise. Every process of a DDP run agrees on the
choice, and a resumed run keeps the one it started with.
"""

import copy
import time

import torch

from hjepa import distributed
from hjepa.runtime import autocast, autocast_dtype

MIN_MEASURED_SECONDS = 0.02  # fp32 passes faster than this are not worth measuring
REQUIRED_SPEEDUP = 1.25  # bf16 must be at least this much faster to be chosen


def training_precision(precision: str, device: torch.device, model, batch: dict):
    """The autocast dtype to train `model` in (None: fp32)."""
    if precision != "auto" or device.type != "cpu":
        return autocast_dtype(precision, device)
    faster = cpu_has_bf16() and bf16_speedup(model, batch, device) >= REQUIRED_SPEEDUP
    agreed = distributed.all_reduce_mean(torch.tensor(float(faster), device=device))
    return torch.bfloat16 if float(agreed) >= 0.5 else None


def cpu_has_bf16() -> bool:
    """Whether this CPU has native bf16 matmul support (oneDNN's check)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return torch.backends.mkldnn.is_available() and check is not None and bool(check())


def bf16_speedup(model, batch: dict, device: torch.device, repeats: int = 3) -> float:
    """fp32 time / bf16-autocast time of a forward and backward pass of a copy of `model` on
    `batch` (best of `repeats` each, after one warm-up); 1.0 when the fp32 pass is too short to
    be worth it."""
    probe = copy.deepcopy(model).train()
    with torch.random.fork_rng(devices=[]):  # the run's random draws stay as they were
        fp32 = _pass_seconds(probe, batch, device, None, repeats)
        # both passes always run: a model's forward may hold DDP collectives, so every process
        # must make the same passes whatever its own timings say
        bf16 = _pass_seconds(probe, batch, device, torch.bfloat16, repeats)
    return 1.0 if fp32 < MIN_MEASURED_SECONDS else fp32 / bf16


def _pass_seconds(model, batch, device, dtype, repeats: int) -> float:
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        with autocast(device, dtype):
            loss, _ = model(batch)
        loss.backward()
        model.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return min(times[1:])
