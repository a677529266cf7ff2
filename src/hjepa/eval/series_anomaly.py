"""Anomaly scores from prediction errors: a patch the rest of its series does not explain is hard
to predict.

Each series' valid patches are split into `groups` interleaved sets (patch i in set i % groups);
every set in turn is the target and the other patches the context, so each patch is predicted
once. Its error (`token_errors` of the model: representation error for TS-JEPA, value error for
masked reconstruction) is the score of each of its steps; steps outside whole patches score NaN.
"""

import numpy as np
import torch

from hjepa.errors import ConfigError
from hjepa.nets.series import valid_patches


@torch.no_grad()
def anomaly_scores(model, series: torch.Tensor, groups: int = 4) -> np.ndarray:
    """Per-step scores [N, T] of series [N, C, T] (normalized as in training, NaN-padded)."""
    if groups < 2:
        raise ConfigError(f"anomaly scores need groups >= 2 (context and targets), got {groups}")
    encoder = model.encoder
    p, rows = encoder.patch_size, encoder.rows_per_sample()
    scores = np.full(series.shape[::2], np.nan)
    for i, valid in enumerate(valid_patches(series, p)):
        patches = valid.nonzero()[:, 0]
        x = series[i : i + 1]
        for g in range(min(groups, len(patches) - 1)):
            is_target = torch.arange(len(patches)) % groups == g
            context, target = patches[~is_target], patches[is_target]
            errors = model.token_errors(x, context.expand(rows, -1), target.expand(rows, -1)).mean(
                0
            )
            for patch, error in zip(target.tolist(), errors.tolist(), strict=True):
                scores[i, patch * p : (patch + 1) * p] = error
    return scores
