"""Criterion (3) of the JEPA recipe: minimize the prediction error D(ŝ_y, s_y).

`prediction_loss` is the distance D between the predictor's output ŝ_y (`pred`) and the target
representation s_y (`target`). Which s_y is used, and whether it carries a gradient, is decided by
the target module (see `hjepa.jepa.targets`): the caller hands in a tensor that is already detached
when the target uses a stop-gradient, so nothing here detaches (the "none" target needs the
gradient to flow into s_y).
"""

import torch
import torch.nn.functional as F

from hjepa.errors import ConfigError, ShapeError

LOSS_KINDS = ("l1", "l2", "smooth_l1", "cosine")


def prediction_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    kind: str = "smooth_l1",
    target_layernorm: bool = False,
) -> tuple[torch.Tensor, dict]:
    """Distance D(ŝ_y, s_y) averaged over every element (criterion 3).

    kind: "l1" (mean absolute error), "l2" (mean squared error), "smooth_l1" (Huber, beta=1) or
    "cosine" (1 - cosine similarity along the last dimension, averaged over the rest).
    target_layernorm: normalize s_y over its last dimension (no affine) first, as I-JEPA does; this
    fixes the target's scale so the predictor cannot win by shrinking it.

    Returns (loss, metrics); metrics hold detached 0-d tensors: "pred_loss" and "target_std"
    (mean per-feature std of s_y over rows, a cheap collapse monitor for criterion 2).
    """
    if kind not in LOSS_KINDS:
        raise ConfigError(f"loss kind {kind!r} is unknown; valid kinds: {', '.join(LOSS_KINDS)}")
    if pred.shape != target.shape:
        raise ShapeError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} "
            f"and {tuple(target.shape)}"
        )
    if target_layernorm:
        target = F.layer_norm(target, target.shape[-1:])
    loss = _distance(pred, target, kind)
    return loss, {"pred_loss": loss.detach(), "target_std": _feature_std(target)}


def _distance(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "l1":
        return F.l1_loss(pred, target)
    if kind == "l2":
        return F.mse_loss(pred, target)
    if kind == "smooth_l1":
        return F.smooth_l1_loss(pred, target, beta=1.0)
    return 1.0 - F.cosine_similarity(pred, target, dim=-1).mean()


def _feature_std(target: torch.Tensor) -> torch.Tensor:
    """Mean over features of the std over rows; 0 when fewer than two rows."""
    rows = target.detach().reshape(-1, target.shape[-1]).float()
    if rows.shape[0] < 2:
        return rows.new_zeros(())
    return rows.std(dim=0).mean()


def embedding_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of embeddings [..., E], smooth at 0 (finite gradient)."""
    return ((a - b).pow(2).sum(-1) + 1e-6).sqrt()


def step_distance_loss(anchors, nexts, others, cap: float, local_weight: float = 100.0):
    """Shapes embeddings [N, E] so that their distance counts steps (quasimetric-style, after
    QRL): a recorded step (anchor -> next) stays within one unit (squared hinge), while other
    pairs (anchor, other) are pushed apart up to `cap` (softplus(cap - d)). The largest
    distances consistent with "one step costs at most 1" are shortest-path step counts.
    Returns (loss, metrics)."""
    violation = torch.relu(embedding_distance(anchors, nexts) - 1.0).pow(2).mean()
    far = embedding_distance(anchors, others)
    loss = local_weight * violation + F.softplus(cap - far).mean()
    return loss, {"violation": violation.detach(), "far_mean": far.mean().detach()}
