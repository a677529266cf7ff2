"""Where the target representation s_y comes from: criterion (2) on the target side.

The target encoder computes s_y, the representation the predictor must match (criterion 3).
If s_y came from the trained encoder with a gradient, the cheapest way to minimize the prediction
error would be to make s_y constant: collapse, which violates criteria (1) and (2). The classic
JEPA defence is an asymmetry between the two branches:

- "ema": s_y from a slowly moving average of the context encoder, under stop-gradient (I-JEPA,
  V-JEPA). The target follows the encoder's improvements but cannot be pulled toward the predictor.
- "stopgrad": s_y from the context encoder's own weights, under stop-gradient (SimSiam-like).
- "frozen": s_y from a fixed copy of the encoder taken at construction (e.g. a pretrained one).
- "none": s_y from the context encoder with gradient. Nothing prevents collapse here, so a
  regularizer (VICReg / SIGReg) must keep the information up: `needs_regularizer` is True.

Every target is an nn.Module: forward(*args, **kwargs) returns
encoder.forward_features(*args, **kwargs), and update(encoder, step, total_steps) -> dict is
called by the trainer after each optimizer step.
"""

import abc
import copy

import torch
import torch.nn as nn

from hjepa.errors import ConfigError, ShapeError

TARGET_KINDS = ("ema", "stopgrad", "frozen", "none")


def ema_momentum(step: int, total_steps: int, start: float = 0.996, end: float = 1.0) -> float:
    """EMA momentum going linearly from `start` at step 0 to `end` at `total_steps` (I-JEPA);
    steps outside [0, total_steps] are clamped."""
    if total_steps <= 0:
        raise ConfigError(f"ema: total_steps must be > 0, got {total_steps}")
    progress = min(max(step / total_steps, 0.0), 1.0)
    return start + (end - start) * progress


class Target(nn.Module, abc.ABC):
    """Base class. Subclasses set `kind`, `needs_regularizer` and `stop_gradient`."""

    kind = ""
    needs_regularizer = False
    stop_gradient = True

    @property
    @abc.abstractmethod
    def encoder(self) -> nn.Module:
        """The module whose `forward_features` produces s_y."""

    def forward(self, *args, **kwargs):
        if self.stop_gradient:
            with torch.no_grad():
                return self.encoder.forward_features(*args, **kwargs)
        return self.encoder.forward_features(*args, **kwargs)

    def encode(self, x: torch.Tensor, online: torch.Tensor | None = None) -> torch.Tensor:
        """Target embeddings of the whole input `x`; `online` (the context encoder's output on
        the same `x`, if the caller has it) lets shared-weight targets skip a second pass."""
        return self(x)

    def update(self, encoder: nn.Module, step: int, total_steps: int) -> dict:
        """Called after each optimizer step; returns metrics. Nothing to do by default."""
        return {}


class _CopyTarget(Target):
    """A target owning a deep copy of the encoder with requires_grad=False (saved in state_dict)."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.target_encoder = copy.deepcopy(_unwrap(encoder))
        self.target_encoder.requires_grad_(False)

    @property
    def encoder(self) -> nn.Module:
        return self.target_encoder


class _SharedTarget(Target):
    """A target reading the context encoder's own weights.

    The encoder is stored with object.__setattr__ so nn.Module does not register it as a
    submodule: the encoder is already owned (and saved, moved, counted) by the model, and
    registering it here would duplicate its weights in state_dict and parameters().
    """

    def __init__(self, encoder: nn.Module):
        super().__init__()
        object.__setattr__(self, "_shared_encoder", _unwrap(encoder))

    @property
    def encoder(self) -> nn.Module:
        return self._shared_encoder

    def encode(self, x: torch.Tensor, online: torch.Tensor | None = None) -> torch.Tensor:
        if online is None:
            return self(x)
        return online.detach() if self.stop_gradient else online


class EMATarget(_CopyTarget):
    """s_y from an exponential moving average of the encoder, under stop-gradient.

    update: theta_t <- m theta_t + (1 - m) theta_enc for every parameter (buffers, e.g. norm
    statistics, are copied), with m = ema_momentum(step, total_steps, start, end).
    """

    kind = "ema"

    def __init__(
        self, encoder: nn.Module, momentum_start: float = 0.996, momentum_end: float = 1.0
    ):
        super().__init__(encoder)
        for name, value in (("momentum_start", momentum_start), ("momentum_end", momentum_end)):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"ema: {name} must be in [0, 1], got {value}")
        self.momentum_start = momentum_start
        self.momentum_end = momentum_end

    @torch.no_grad()
    def update(self, encoder: nn.Module, step: int, total_steps: int) -> dict:
        momentum = ema_momentum(step, total_steps, self.momentum_start, self.momentum_end)
        source = _unwrap(encoder)
        target_params = list(self.target_encoder.parameters())
        source_params = _matching(target_params, list(source.parameters()), "parameters")
        # lerp: theta_t + (1 - m) (theta_enc - theta_t) = m theta_t + (1 - m) theta_enc
        torch._foreach_lerp_(target_params, source_params, 1.0 - momentum)
        target_buffers = list(self.target_encoder.buffers())
        source_buffers = _matching(target_buffers, list(source.buffers()), "buffers")
        for mine, theirs in zip(target_buffers, source_buffers, strict=True):
            mine.copy_(theirs)
        return {"ema_momentum": momentum}

    def extra_repr(self) -> str:
        return f"momentum_start={self.momentum_start}, momentum_end={self.momentum_end}"


class StopGradTarget(_SharedTarget):
    """s_y from the context encoder's current weights under stop-gradient (no copy)."""

    kind = "stopgrad"


class FrozenTarget(_CopyTarget):
    """s_y from a copy of the encoder taken at construction, never updated.

    The copy always stays in eval mode, so e.g. batch-norm statistics or dropout cannot change the
    frozen target when the model is put in training mode.
    """

    kind = "frozen"

    def __init__(self, encoder: nn.Module):
        super().__init__(encoder)
        self.target_encoder.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self.target_encoder.eval()
        return self


class SameEncoderTarget(_SharedTarget):
    """s_y from the context encoder itself WITH gradient ("none"): collapse must be prevented by
    a regularizer on s_x and s_y (criteria 1 and 2)."""

    kind = "none"
    needs_regularizer = True
    stop_gradient = False


_CLASSES = {
    "ema": EMATarget,
    "stopgrad": StopGradTarget,
    "frozen": FrozenTarget,
    "none": SameEncoderTarget,
}


def build_target(
    kind: str, encoder: nn.Module, momentum_start: float = 0.996, momentum_end: float = 1.0
) -> Target:
    """Build the target of `kind` around `encoder` (momentum options are used by "ema" only)."""
    if kind not in TARGET_KINDS:
        raise ConfigError(
            f"target kind {kind!r} is unknown; valid kinds: {', '.join(TARGET_KINDS)}"
        )
    if kind == "ema":
        return EMATarget(encoder, momentum_start=momentum_start, momentum_end=momentum_end)
    return _CLASSES[kind](encoder)


def _unwrap(encoder: nn.Module) -> nn.Module:
    """The plain module inside DistributedDataParallel (.module) or torch.compile (._orig_mod),
    which is the one that has `forward_features`."""
    while True:
        if isinstance(encoder, nn.parallel.DistributedDataParallel):
            encoder = encoder.module
        elif isinstance(getattr(encoder, "_orig_mod", None), nn.Module):
            encoder = encoder._orig_mod
        else:
            return encoder


def _matching(mine: list, theirs: list, what: str) -> list:
    same_count = len(mine) == len(theirs)
    if not same_count or any(a.shape != b.shape for a, b in zip(mine, theirs, strict=True)):
        raise ShapeError(f"ema: the encoder's {what} do not match the target copy's {what}")
    return theirs
