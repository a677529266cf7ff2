"""Procedural time series for tests and benchmarks: classification, anomalies, forecasting.

Deterministic under a seed: each series of the classification and anomaly sets is a pure
function of (seed, index); the forecasting series comes from one generator seeded by `seed`.
"""

import numpy as np
from scipy.signal import lfilter

from hjepa.errors import ConfigError
from hjepa.modalities.series import SeriesSet, make_series_set

CLASS_NAMES = ("ar", "chirp", "regime", "sine")  # sorted, so label k names CLASS_NAMES[k]
FORECAST_PERIOD = 24  # short seasonal period of procedural_forecasting (a "day" of steps)
FORECAST_LONG_PERIOD = 168  # long seasonal period (a "week": 7 x FORECAST_PERIOD)
_F_LOW, _F_HIGH = 1 / 40, 1 / 5  # range of frequencies, in cycles per step
_BURN_IN = 64  # steps an AR process runs before it is recorded


def _check_int(name: str, value: int, low: int) -> None:
    """ConfigError unless value is an int >= low."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")


def _ar(rng: np.random.Generator, coeffs: list[float], length: int, std: float) -> np.ndarray:
    """An AR process x_t = sum_k coeffs[k] x_{t-k-1} + e_t, e ~ N(0, std^2), after a burn-in."""
    noise = rng.normal(0.0, std, length + _BURN_IN)
    return lfilter([1.0], [1.0, *(-c for c in coeffs)], noise)[_BURN_IN:]


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A number between low and high, uniform on a log scale."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _sine(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A sine of random frequency and phase."""
    f = _log_uniform(rng, _F_LOW, _F_HIGH)
    return np.sqrt(2.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))


def _ar_noise(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A stationary AR(2) process with unit standard deviation."""
    x = _ar(rng, [rng.uniform(0.2, 1.0), rng.uniform(-0.7, -0.15)], t.size, 1.0)
    return x / max(float(x.std()), 1e-6)


def _two_frequencies(rng: np.random.Generator) -> tuple[float, float]:
    """A low frequency and one 2.5 to 3.5 times higher, both in [_F_LOW, _F_HIGH]."""
    low = _log_uniform(rng, _F_LOW, _F_HIGH / 3.5)
    return low, low * rng.uniform(2.5, 3.5)


def _regime(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A sine whose frequency jumps (up or down) at a random time between 30% and 70%."""
    low, high = _two_frequencies(rng)
    before, after = (low, high) if rng.random() < 0.5 else (high, low)
    switch = rng.uniform(0.3, 0.7) * t.size
    phase = 2 * np.pi * np.cumsum(np.where(t < switch, before, after))
    return np.sqrt(2.0) * np.sin(phase + rng.uniform(0, 2 * np.pi))


def _chirp(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A sine whose frequency rises linearly over the series."""
    low, high = _two_frequencies(rng)
    phase = 2 * np.pi * (low * t + (high - low) * t**2 / (2 * t.size))
    return np.sqrt(2.0) * np.sin(phase + rng.uniform(0, 2 * np.pi))


_SHAPES = {"ar": _ar_noise, "chirp": _chirp, "regime": _regime, "sine": _sine}


def _class_channel(rng: np.random.Generator, kind: str, t: np.ndarray) -> np.ndarray:
    """One channel of class `kind`: its dynamics plus white noise, random amplitude and offset."""
    x = _SHAPES[kind](rng, t) + rng.normal(0.0, rng.uniform(0.1, 0.3), t.size)
    return _log_uniform(rng, 0.5, 5.0) * x + rng.uniform(-5.0, 5.0)


def procedural_classes(
    num_series: int, length: int = 128, seed: int = 0, channels: int = 1
) -> SeriesSet:
    """Balanced series of 4 classes (CLASS_NAMES) told apart by dynamics, not by amplitude.

    "sine": fixed frequency; "ar": AR(2) noise; "regime": a frequency jump at a random time;
    "chirp": rising frequency. Every channel has its own random amplitude and offset, so
    mean and standard deviation say nothing about the class. Series i has class i % 4.
    """
    _check_int("num_series", num_series, 1)
    _check_int("length", length, 16)
    _check_int("seed", seed, 0)
    _check_int("channels", channels, 1)
    t = np.arange(length, dtype=np.float64)
    series, labels = [], []
    for i in range(num_series):
        rng = np.random.default_rng([seed, i])
        kind = CLASS_NAMES[i % len(CLASS_NAMES)]
        series.append(np.stack([_class_channel(rng, kind, t) for _ in range(channels)]))
        labels.append(kind)
    return make_series_set(series, labels, "procedural")


def _normal_series(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Two seasonal sines plus AR(1) noise, at a random amplitude and offset."""
    period = rng.uniform(16.0, 48.0)
    x = rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    long_period = period * rng.uniform(2.0, 4.0)
    x += rng.uniform(0.2, 0.8) * np.sin(2 * np.pi * t / long_period + rng.uniform(0, 2 * np.pi))
    x += _ar(rng, [rng.uniform(0.3, 0.8)], t.size, 0.15)
    return _log_uniform(rng, 0.5, 5.0) * x + rng.uniform(-5.0, 5.0)


def _anomaly(rng: np.random.Generator, span: int, scale: float) -> np.ndarray:
    """What to add over `span` steps: a spike (span 1), a level shift, or a frequency burst."""
    sign = rng.choice([-1.0, 1.0])
    if span == 1:
        return np.array([sign * rng.uniform(4.0, 7.0) * scale])
    if rng.random() < 0.5:
        return np.full(span, sign * rng.uniform(2.0, 4.0) * scale)
    phase = 2 * np.pi * rng.uniform(0.3, 0.45) * np.arange(span) + rng.uniform(0, 2 * np.pi)
    return rng.uniform(1.5, 3.0) * scale * np.sin(phase)


def _inject(rng: np.random.Generator, x: np.ndarray, budget: int) -> np.ndarray:
    """Add non-touching anomalies to x (in place) until about `budget` steps are anomalous.

    Returns the boolean mask of anomalous steps; the first anomaly always fits.
    """
    mask = np.zeros(x.size, dtype=bool)
    scale = float(x.std())
    for _ in range(100):
        need = budget - int(mask.sum())
        if need <= 0:
            break
        span = 1 if rng.random() < 1 / 3 else min(int(rng.integers(3, 11)), need)
        span = 1 if span < 3 else span
        start = int(rng.integers(0, x.size - span + 1))
        if mask[max(start - 1, 0) : start + span + 1].any():
            continue
        x[start : start + span] += _anomaly(rng, span, scale)
        mask[start : start + span] = True
    return mask


def procedural_anomalies(
    num_series: int, length: int = 256, seed: int = 0, rate: float = 0.02
) -> tuple[SeriesSet, np.ndarray]:
    """Seasonal series with injected spikes, level shifts and frequency bursts.

    Returns the unlabelled set and the bool mask [N, length] of anomalous steps: about
    `rate` of each series' steps (at least one) are anomalous.
    """
    _check_int("num_series", num_series, 1)
    _check_int("length", length, 16)
    _check_int("seed", seed, 0)
    if not 0.0 < rate <= 0.25:
        raise ConfigError(f"rate must lie in (0, 0.25], got {rate!r}")
    t = np.arange(length, dtype=np.float64)
    budget = max(1, round(rate * length))
    series, masks = [], []
    for i in range(num_series):
        rng = np.random.default_rng([seed, i])
        x = _normal_series(rng, t)
        masks.append(_inject(rng, x, budget))
        series.append(x)
    return make_series_set(series, None, "procedural-anomalies"), np.stack(masks)


def _forecast_channel(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Trend + seasons of FORECAST_PERIOD and FORECAST_LONG_PERIOD + AR(1) noise."""
    x = rng.uniform(-2.0, 2.0) * t / t.size + rng.uniform(-1.0, 1.0) * (t / t.size) ** 2
    for period, low, high in ((FORECAST_PERIOD, 0.6, 1.2), (FORECAST_LONG_PERIOD, 0.3, 0.8)):
        x += rng.uniform(low, high) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    x += _ar(rng, [rng.uniform(0.5, 0.8)], t.size, 0.2)
    return _log_uniform(rng, 0.5, 5.0) * x + rng.uniform(-5.0, 5.0)


def procedural_forecasting(length: int = 4096, seed: int = 0, channels: int = 1) -> SeriesSet:
    """One long series [1, channels, length]: trend, two seasons, AR(1) noise per channel.

    The seasonal periods are FORECAST_PERIOD and FORECAST_LONG_PERIOD steps at any length.
    """
    _check_int("length", length, 2 * FORECAST_PERIOD)
    _check_int("seed", seed, 0)
    _check_int("channels", channels, 1)
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)
    x = np.stack([_forecast_channel(rng, t) for _ in range(channels)])
    return make_series_set([x], None, "procedural-forecasting")
