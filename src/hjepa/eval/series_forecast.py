"""Forecasting with a trained series model: predict the future patches' representations from the
history's, then decode them to values.

    history [N, C, L]  --z-normalize per window and channel-->  context = the L / p history patches
    predictor(enc(context), targets = the next H / p positions)  ->  tokens [N', H / p, D]
    ridge decoder (fitted on training windows): token -> the patch's normalized values
    -> de-normalize with the history's mean and std  ->  forecast [N, C, H]

The decoder is the only part fitted for forecasting; the encoder and predictor stay frozen.
"""

import numpy as np
import torch

from hjepa.errors import ConfigError
from hjepa.modalities.series import STD_FLOOR


class JEPAForecaster:
    def __init__(self, model, history: int, horizon: int, ridge: float = 1e-2):
        encoder = model.encoder
        p = encoder.patch_size
        if history % p or horizon % p or history <= 0 or horizon <= 0:
            raise ConfigError(
                f"forecasting: history {history} and horizon {horizon} must be positive "
                f"multiples of the patch size {p}"
            )
        if history + horizon > encoder.max_length:
            raise ConfigError(
                f"forecasting: history + horizon = {history + horizon} steps exceed the "
                f"{encoder.max_length} the model handles (model.max_patches x model.patch_size)"
            )
        self.model, self.history, self.horizon, self.ridge = model, history, horizon, ridge
        self.weight = None

    def fit(self, history: np.ndarray, future: np.ndarray) -> "JEPAForecaster":
        """Fit the decoder on training windows: history [N, C, L], future [N, C, H]."""
        tokens, mean, std = self._predicted_tokens(history)
        targets = self._patch_values((future - mean) / std)
        x = np.concatenate([tokens, np.ones((len(tokens), 1))], axis=1)
        gram = x.T @ x + self.ridge * len(x) * np.eye(x.shape[1])
        self.weight = np.linalg.solve(gram, x.T @ targets)
        return self

    def predict(self, history: np.ndarray) -> np.ndarray:
        """Forecasts [N, C, H] of the `horizon` steps after each history window [N, C, L]."""
        if self.weight is None:
            raise ConfigError("forecasting: fit the decoder on training windows first")
        tokens, mean, std = self._predicted_tokens(history)
        values = np.concatenate([tokens, np.ones((len(tokens), 1))], axis=1) @ self.weight
        return self._series_values(values, len(history)) * std + mean

    @torch.no_grad()
    def _predicted_tokens(self, history: np.ndarray):
        """(predicted future tokens [N' * H / p, D], window mean and std [N, C, 1])."""
        mean = history.mean(axis=2, keepdims=True)
        std = np.maximum(history.std(axis=2, keepdims=True), STD_FLOOR)
        encoder, p = self.model.encoder, self.model.encoder.patch_size
        x = torch.full((len(history), history.shape[1], encoder.max_length), float("nan"))
        x[..., : self.history] = torch.as_tensor((history - mean) / std, dtype=torch.float32)
        rows = len(history) * encoder.rows_per_sample()
        context = torch.arange(self.history // p).expand(rows, -1)
        target = torch.arange(self.history // p, (self.history + self.horizon) // p)
        tokens = self.model.predictor(
            encoder.forward_features(x, keep=context), context, target.expand(rows, -1)
        )
        return tokens.reshape(-1, tokens.shape[-1]).double().numpy(), mean, std

    def _patch_values(self, future: np.ndarray) -> np.ndarray:
        """Future values [N, C, H] -> one row per predicted token: [N' * H / p, p * C / rows]."""
        rows = self.model.encoder.rows_per_sample()
        n, c, h = future.shape
        p = self.model.encoder.patch_size
        per_row = future.reshape(n * rows, c // rows, h // p, p)
        return per_row.transpose(0, 2, 3, 1).reshape(-1, p * c // rows)

    def _series_values(self, values: np.ndarray, n: int) -> np.ndarray:
        """Inverse of `_patch_values`: [N' * H / p, p * C / rows] -> [N, C, H]."""
        rows = self.model.encoder.rows_per_sample()
        p = self.model.encoder.patch_size
        c = self.model.encoder.in_chans
        per_row = values.reshape(n * rows, self.horizon // p, p, c // rows)
        return per_row.transpose(0, 3, 1, 2).reshape(n, c, self.horizon)
