"""AdamW with per-step schedules: linear warmup + cosine learning rate, cosine weight-decay ramp."""

import math

import torch
from torch import nn

from hjepa.config_schema import OptimConfig


def warmup_cosine(step: int, total: int, warmup: int, peak: float, final: float) -> float:
    """Linear from 0 to `peak` over `warmup` steps, then cosine from `peak` down to `final`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + 0.5 * (peak - final) * (1.0 + math.cos(math.pi * progress))


def cosine_ramp(step: int, total: int, start: float, end: float) -> float:
    """Cosine interpolation from `start` (step 0) to `end` (last step)."""
    progress = min(1.0, step / max(1, total - 1))
    return end + 0.5 * (start - end) * (1.0 + math.cos(math.pi * progress))


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    """Two groups: weights decay; biases, norms and 1-D parameters don't (they keep 0)."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay, "decays": True},
        {"params": no_decay, "weight_decay": 0.0, "decays": False},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)


def apply_schedules(optimizer: torch.optim.Optimizer, cfg: OptimConfig, step: int, total: int):
    """Set this step's lr and weight decay on the optimizer; return them for logging."""
    lr = warmup_cosine(step, total, cfg.warmup_steps, cfg.lr, cfg.min_lr)
    wd = cosine_ramp(step, total, cfg.weight_decay, cfg.weight_decay_end)
    for group in optimizer.param_groups:
        group["lr"] = lr
        if group["decays"]:
            group["weight_decay"] = wd
    return lr, wd
