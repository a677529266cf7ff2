"""Forecasting baselines and scores for time series, and the AUROC of anomaly scores.

Windows convention: a `history` is a float array [N, C, L] holding the last L observed steps
of N windows of C channels; a forecast of `horizon` H steps is [N, C, H]. `forecast_windows`
cuts a series [C, T] into such (history, future) pairs.

Baselines: the naive forecast (repeat the last value), the seasonal naive forecast (repeat the
last full period) and `LinearAutoregression`, a direct multi-output linear model per channel
that predicts the next H steps from the last p.
"""

import numpy as np

from hjepa.errors import ConfigError, ShapeError


def forecast_windows(
    series: np.ndarray, history: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(histories [N, C, history], futures [N, C, horizon]) of the windows starting every
    `stride` steps of `series` [C, T]."""
    series = _as_array("series", series, ndim=2)
    for name, value in (("history", history), ("horizon", horizon), ("stride", stride)):
        _check_positive(name, value)
    if series.shape[1] < history + horizon:
        raise ShapeError(
            f"series: {series.shape[1]} steps, shape {series.shape}, are fewer than "
            f"history + horizon = {history + horizon}"
        )
    windows = np.lib.stride_tricks.sliding_window_view(series, history + horizon, axis=1)
    windows = windows[:, ::stride].transpose(1, 0, 2)
    return windows[..., :history].copy(), windows[..., history:].copy()


def naive_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed value of every window and channel: [N, C, horizon]."""
    history = _as_array("history", history, ndim=3)
    _check_positive("horizon", horizon)
    return np.repeat(history[..., -1:], horizon, axis=2)


def seasonal_naive_forecast(history: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """Repeat the last `period` observed steps (1 <= period <= L): [N, C, horizon]."""
    history = _as_array("history", history, ndim=3)
    _check_positive("horizon", horizon)
    if not 1 <= period <= history.shape[2]:
        raise ConfigError(f"period must be in 1..{history.shape[2]} (history length), got {period}")
    reps = -(-horizon // period)
    return np.tile(history[..., -period:], (1, 1, reps))[..., :horizon]


class LinearAutoregression:
    """Per channel c: future[h] = sum_j coef[c, j, h] * history[-order + j] + intercept[c, h].

    `coef` is [C, order, H] with lags from oldest to newest, `intercept` [C, H]. Fitted with
    `LinearAutoregression.fit`.
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        self.coef, self.intercept = coef, intercept
        self.channels, self.order, self.horizon = coef.shape

    @classmethod
    def fit(
        cls,
        train: np.ndarray | list[np.ndarray],
        order: int,
        horizon: int,
        ridge: float = 1e-3,
    ) -> "LinearAutoregression":
        """Least squares on every window (stride 1) of the training series: one [C, T], or a
        list (or stacked array [S, C, T]) of them with the same C. Per channel c it minimizes
        the mean squared error + ridge * var_c * |coef_c|^2, var_c the variance of the channel's
        lagged values, so the penalty does not depend on the series' scale; the intercept is
        not penalized."""
        _check_positive("order", order)
        _check_positive("horizon", horizon)
        series = [train] if isinstance(train, np.ndarray) and train.ndim <= 2 else list(train)
        shapes = [np.shape(s) for s in series]
        if not shapes or any(len(s) != 2 for s in shapes) or len({s[0] for s in shapes}) != 1:
            raise ShapeError(f"train: expected series [C, T] with the same C, got shapes {shapes}")
        pairs = [forecast_windows(s, order, horizon) for s in series]
        x = np.concatenate([p[0] for p in pairs]).transpose(1, 0, 2)  # [C, N, order]
        y = np.concatenate([p[1] for p in pairs]).transpose(1, 0, 2)  # [C, N, H]
        return cls(*_ridge_fit(x, y, ridge))

    def predict(self, history: np.ndarray) -> np.ndarray:
        """Forecasts [N, C, H] from histories [N, C, L] with L >= order."""
        history = _as_array("history", history, ndim=3)
        if history.shape[1] != self.channels or history.shape[2] < self.order:
            raise ShapeError(
                f"history: expected [N, {self.channels}, L >= {self.order}], got {history.shape}"
            )
        lags = history[..., -self.order :]
        return np.einsum("ncp,cph->nch", lags, self.coef) + self.intercept


def forecast_errors(pred: np.ndarray, future: np.ndarray) -> dict[str, float]:
    """Mean squared and mean absolute error over all windows, channels and steps."""
    pred, future = _as_array("pred", pred), _as_array("future", future)
    if pred.shape != future.shape or pred.size == 0:
        raise ShapeError(
            f"pred {pred.shape} and future {future.shape} must have the same non-empty shape"
        )
    diff = pred - future
    return {"mse": float(np.mean(diff**2)), "mae": float(np.mean(np.abs(diff)))}


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of `scores` for the positives of `labels` (same shape, bool or
    0/1), by the Mann-Whitney rank formula with average ranks for ties. Raises ConfigError when
    the labels hold a single class, for which the AUROC is undefined."""
    scores, labels = _as_array("scores", scores), np.asarray(labels)
    if labels.shape != scores.shape or not np.isin(labels, (0, 1)).all():
        raise ShapeError(
            f"labels: expected bool or 0/1 values of the scores' shape {scores.shape}, "
            f"got shape {labels.shape}"
        )
    scores, labels = scores.ravel(), labels.astype(bool).ravel()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ConfigError(f"AUROC needs both classes, got {n_pos} positives and {n_neg} negatives")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2)[inverse.ravel()]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Batched over channels: x [C, N, p], y [C, N, H] -> coef [C, p, H], intercept [C, H]."""
    x_mean, y_mean = x.mean(1, keepdims=True), y.mean(1, keepdims=True)
    xc, yc = x - x_mean, y - y_mean
    var = np.maximum(xc.var(axis=(1, 2)), 1e-12)  # [C]
    eye = np.eye(x.shape[2])
    gram = xc.transpose(0, 2, 1) @ xc + ridge * x.shape[1] * var[:, None, None] * eye
    coef = np.linalg.solve(gram, xc.transpose(0, 2, 1) @ yc)
    intercept = (y_mean - x_mean @ coef)[:, 0]
    return coef, intercept


def _as_array(name: str, x, ndim: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{name}: expected {ndim} dimensions, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ShapeError(f"{name}: contains NaN or Inf values")
    return x


def _check_positive(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
