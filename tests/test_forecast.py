"""Forecasting baselines, forecast errors and the AUROC of anomaly scores."""

import numpy as np
import pytest

from hjepa.errors import ConfigError, ShapeError
from hjepa.eval.forecast import (
    LinearAutoregression,
    auroc,
    forecast_errors,
    forecast_windows,
    naive_forecast,
    seasonal_naive_forecast,
)


def ar2(steps, a1, a2, noise, seed, const=0.0):
    """x[t] = const + a1 x[t-1] + a2 x[t-2] + noise * N(0, 1)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(steps)
    x[:2] = rng.normal(size=2)
    for t in range(2, steps):
        x[t] = const + a1 * x[t - 1] + a2 * x[t - 2] + noise * rng.normal()
    return x


def test_naive_and_seasonal_naive_on_hand_made_windows():
    history = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0], [9.0, 8.0, 7.0, 6.0, -1.0]]])
    assert naive_forecast(history, 3).tolist() == [[[5, 5, 5], [-1, -1, -1]]]
    assert seasonal_naive_forecast(history, 5, period=2).tolist() == [
        [[4, 5, 4, 5, 4], [6, -1, 6, -1, 6]]
    ]
    assert seasonal_naive_forecast(history, 2, period=5).tolist() == [[[1, 2], [9, 8]]]
    for period in (0, 6):
        with pytest.raises(ConfigError, match="period"):
            seasonal_naive_forecast(history, 2, period)


def test_seasonal_naive_is_exact_on_a_periodic_series():
    t = np.arange(500)
    series = np.stack([np.sin(2 * np.pi * t / 12), (t % 12 == 3).astype(float)])
    history, future = forecast_windows(series, 30, 20, stride=7)
    errors = forecast_errors(seasonal_naive_forecast(history, 20, period=12), future)
    assert errors["mse"] < 1e-24 and errors["mae"] < 1e-12
    assert forecast_errors(naive_forecast(history, 20), future)["mse"] > 0.1


def test_forecast_windows_shapes_and_contents():
    series = np.arange(20.0).reshape(2, 10)  # channel 1 is channel 0 + 10
    history, future = forecast_windows(series, 3, 2, stride=2)
    assert history.shape == (3, 2, 3) and future.shape == (3, 2, 2)
    assert history[1, 0].tolist() == [2, 3, 4] and future[1, 0].tolist() == [5, 6]
    assert history[2, 1].tolist() == [14, 15, 16] and future[2, 1].tolist() == [17, 18]
    with pytest.raises(ShapeError, match="series"):
        forecast_windows(series, 8, 3)
    with pytest.raises(ShapeError, match="series"):
        forecast_windows(np.arange(10.0), 3, 2)


def test_linear_autoregression_recovers_a_noiseless_ar2():
    train = [np.stack([ar2(300, 1.5, -0.8, 0, 0, const=0.3), ar2(300, 0.5, 0.3, 0, 1)])] * 2
    model = LinearAutoregression.fit(train, order=2, horizon=5, ridge=1e-10)
    assert model.coef.shape == (2, 2, 5) and model.intercept.shape == (2, 5)
    np.testing.assert_allclose(model.coef[:, :, 0], [[-0.8, 1.5], [0.3, 0.5]], atol=1e-6)
    np.testing.assert_allclose(model.intercept[:, 0], [0.3, 0.0], atol=1e-6)
    test = np.stack([ar2(200, 1.5, -0.8, 0, 5, const=0.3), ar2(200, 0.5, 0.3, 0, 6)])
    history, future = forecast_windows(test, 10, 5, stride=3)
    assert forecast_errors(model.predict(history), future)["mse"] < 1e-12
    default_ridge = LinearAutoregression.fit(train, order=2, horizon=5)
    assert forecast_errors(default_ridge.predict(history), future)["mse"] < 1e-5


def test_linear_autoregression_beats_naive_on_a_noisy_ar2():
    model = LinearAutoregression.fit(ar2(2000, 0.6, 0.3, 1.0, 0)[None], order=2, horizon=4)
    history, future = forecast_windows(ar2(2000, 0.6, 0.3, 1.0, 1)[None], 16, 4, stride=4)
    ours = forecast_errors(model.predict(history), future)
    naive = forecast_errors(naive_forecast(history, 4), future)
    assert ours["mse"] < 0.9 * naive["mse"] and ours["mae"] < naive["mae"]
    with pytest.raises(ShapeError, match="history"):
        model.predict(history[:, :, :1])


def test_forecast_errors_values_and_shapes():
    errors = forecast_errors(np.array([[[1.0, 2.0]]]), np.array([[[0.0, 4.0]]]))
    assert errors == {"mse": 2.5, "mae": 1.5}
    with pytest.raises(ShapeError, match="pred"):
        forecast_errors(np.zeros((2, 1, 3)), np.zeros((2, 1, 4)))


def test_auroc_matches_sklearn_with_ties():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(40, 5)).astype(float)  # many ties
    labels = rng.random((40, 5)) < 0.3 + 0.1 * scores
    expected = metrics.roc_auc_score(labels.ravel(), scores.ravel())
    assert auroc(scores, labels) == pytest.approx(expected, abs=1e-12)
    assert 0.6 < expected < 0.95


def test_auroc_extremes_and_one_class_labels():
    labels = np.array([False, True, False, True, True])
    assert auroc(np.array([0.1, 0.9, 0.2, 0.8, 0.7]), labels) == 1.0
    assert auroc(np.array([0.9, 0.1, 0.8, 0.2, 0.3]), labels) == 0.0
    assert auroc(np.full(5, 3.0), labels) == 0.5
    with pytest.raises(ConfigError, match="both classes"):
        auroc(np.arange(4.0), np.zeros(4, dtype=bool))
    with pytest.raises(ShapeError, match="labels"):
        auroc(np.arange(4.0), labels)
    with pytest.raises(ShapeError, match="NaN"):
        auroc(np.array([0.1, np.nan, 0.2, 0.3, 0.4]), labels)
