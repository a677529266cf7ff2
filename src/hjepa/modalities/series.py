"""Time series for TS-JEPA: a validated container (SeriesSet) and the torch Dataset over it.

Series of unequal length are padded with NaN at their end; the model derives its padding
mask from those NaNs (`hjepa.nets.series.valid_patches`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from hjepa.errors import ConfigError, DataError

STD_FLOOR = 1e-6  # z-normalization divides by max(std, STD_FLOOR): a constant series becomes 0


@dataclass(frozen=True, eq=False)
class SeriesSet:
    """N series of C channels, padded with NaN to a common length T.

    values: float32 [N, C, T]; series i holds lengths[i] valid steps, NaN after them.
    lengths: int64 [N], each in 1..T.
    labels: int64 [N] class ids 0..K-1, or None when the set is unlabelled.
    classes: class names, classes[label] is a label's name; () when unlabelled.
    name: where the set comes from ("GunPoint", a file name, "procedural").
    Build one with `make_series_set`, which validates the values themselves.
    """

    values: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray | None
    classes: tuple[str, ...]
    name: str

    def __post_init__(self):
        _check_fields(self)

    def __len__(self) -> int:
        return self.values.shape[0]

    @property
    def num_channels(self) -> int:
        """C, the number of channels of every series."""
        return self.values.shape[1]

    @property
    def max_length(self) -> int:
        """T, the padded length (the longest series)."""
        return self.values.shape[2]

    @property
    def num_classes(self) -> int:
        """K, the number of class names (0 when unlabelled)."""
        return len(self.classes)

    def subset(self, indices) -> "SeriesSet":
        """The series at `indices` (integers or a boolean mask), with the same class names."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        labels = None if self.labels is None else self.labels[idx]
        return replace(self, values=self.values[idx], lengths=self.lengths[idx], labels=labels)

    def with_classes(self, classes: Sequence[str]) -> "SeriesSet":
        """This set relabelled onto `classes` (e.g. a test split onto its train split's names).

        Raises DataError naming the labels that `classes` lacks. An unlabelled set is returned
        unchanged.
        """
        if self.labels is None:
            return self
        target = tuple(str(c) for c in classes)
        position = {c: k for k, c in enumerate(target)}
        lookup = np.array([position.get(c, -1) for c in self.classes], dtype=np.int64)
        labels = lookup[self.labels]
        if (labels < 0).any():
            missing = sorted({self.classes[k] for k in self.labels[labels < 0]}, key=_class_key)
            raise DataError(
                f"{self.name}: label(s) {missing} do not occur in the training classes {target}"
            )
        return replace(self, labels=labels, classes=target)


def _check_fields(data: SeriesSet) -> None:
    """Raise DataError if the arrays of `data` disagree in shape, dtype or range."""
    values, lengths, labels = data.values, data.lengths, data.labels
    if values.ndim != 3 or values.dtype != np.float32:
        raise DataError(f"{data.name}: values must be float32 [N, C, T], got {values.shape}")
    n, _, t = values.shape
    if n == 0:
        raise DataError(f"{data.name}: no series")
    if (
        lengths.shape != (n,)
        or lengths.dtype != np.int64
        or not np.all((lengths >= 1) & (lengths <= t))
    ):
        raise DataError(f"{data.name}: lengths must be int64 [N] in 1..{t}")
    if labels is None:
        if data.classes:
            raise DataError(f"{data.name}: an unlabelled set has no class names")
        return
    if labels.shape != (n,) or labels.dtype != np.int64:
        raise DataError(f"{data.name}: labels must be int64 [N], got shape {labels.shape}")
    if not np.all((labels >= 0) & (labels < len(data.classes))):
        raise DataError(f"{data.name}: labels must lie in 0..{len(data.classes) - 1}")


def make_series_set(
    series: Sequence[np.ndarray] | np.ndarray,
    labels: Sequence[str | int] | np.ndarray | None = None,
    name: str = "series",
) -> SeriesSet:
    """Validate series ([C, T_i] or [T_i] each) and their labels, and pad them into a SeriesSet.

    Trailing steps that are NaN in every channel count as padding (that is how shorter
    series arrive in CSV files); any other NaN or inf raises DataError naming the series,
    channel and step. Labels become ids into the sorted class names, numeric names sorted
    by value ("2" before "10").
    """
    arrays = [_as_channels(i, x, name) for i, x in enumerate(series)]
    if not arrays:
        raise DataError(f"{name}: no series")
    channels = arrays[0].shape[0]
    for i, arr in enumerate(arrays):
        if arr.shape[0] != channels:
            raise DataError(
                f"{name}: series {i} has {arr.shape[0]} channels, series 0 has {channels}"
            )
    lengths = np.array([_valid_length(i, arr, name) for i, arr in enumerate(arrays)])
    values = np.full((len(arrays), channels, int(lengths.max())), np.nan, dtype=np.float32)
    for i, (arr, n) in enumerate(zip(arrays, lengths, strict=True)):
        values[i, :, :n] = arr[:, :n]
    ids, classes = _encode_labels(labels, len(arrays), name)
    return SeriesSet(values, lengths.astype(np.int64), ids, classes, name)


def _as_channels(i: int, x, name: str) -> np.ndarray:
    """Series i as float32 [C, T], or DataError."""
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise DataError(f"{name}: series {i} is not numeric ({err})") from None
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise DataError(f"{name}: series {i} must be [T] or [C, T], got shape {arr.shape}")
    return arr


def _valid_length(i: int, arr: np.ndarray, name: str) -> int:
    """Number of steps of series i before its trailing all-NaN padding; DataError on bad values."""
    steps = np.flatnonzero(~np.isnan(arr).all(axis=0))
    if steps.size == 0:
        raise DataError(f"{name}: series {i} has no valid step")
    n = int(steps[-1]) + 1
    bad = np.argwhere(~np.isfinite(arr[:, :n]))
    if bad.size:
        c, t = (int(v) for v in bad[0])
        raise DataError(
            f"{name}: series {i}, channel {c}, step {t} is {arr[c, t]} inside the series "
            "(only trailing steps that are NaN in every channel count as padding)"
        )
    return n


def _label_name(value) -> str:
    """A label value as a class name."""
    return str(value.item() if isinstance(value, np.generic) else value)


def _class_key(name: str) -> tuple:
    """Sort key of class names: numbers by value first, then other names alphabetically."""
    try:
        number = float(name)
    except ValueError:
        return (1, 0.0, name)
    return (0, number, name) if np.isfinite(number) else (1, 0.0, name)


def _encode_labels(labels, n: int, name: str) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Label ids int64 [n] and the sorted class names (None and () without labels)."""
    if labels is None:
        return None, ()
    names = [_label_name(v) for v in labels]
    if len(names) != n:
        raise DataError(f"{name}: {len(names)} labels for {n} series")
    classes = tuple(sorted(set(names), key=_class_key))
    position = {c: k for k, c in enumerate(classes)}
    return np.array([position[c] for c in names], dtype=np.int64), classes


class SeriesDataset(torch.utils.data.Dataset):
    """The series of a SeriesSet at the model's length, optionally z-normalized.

    Item i is {"series": float32 [C, length], "label": int (-1 when unlabelled), "index": i}.
    `length` is model.max_patches x model.patch_size. With `normalize`, each series is
    z-normalized per channel over its valid steps. Steps past a series' end stay NaN.
    """

    def __init__(self, data: SeriesSet, length: int, patch_size: int, normalize: bool = True):
        _check_sizes(length, patch_size)
        _check_lengths(data, length, patch_size)
        self.data, self.length, self.patch_size = data, length, patch_size
        self._series = torch.from_numpy(_padded(data, length, normalize))

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict:
        n = len(self.data)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} series")
        i = int(i) % n
        label = -1 if self.data.labels is None else int(self.data.labels[i])
        return {"series": self._series[i].clone(), "label": label, "index": i}


def _check_sizes(length: int, patch_size: int) -> None:
    """ConfigError unless both are positive ints and length is a multiple of patch_size."""
    for key, value in (("length", length), ("patch_size", patch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"SeriesDataset: {key} must be an int >= 1, got {value!r}")
    if length % patch_size:
        raise ConfigError(
            f"SeriesDataset: length {length} is not a multiple of patch_size {patch_size}"
        )


def _check_lengths(data: SeriesSet, length: int, patch_size: int) -> None:
    """DataError naming the first series that is longer than `length` or shorter than a patch."""
    too_long = np.flatnonzero(data.lengths > length)
    if too_long.size:
        i = int(too_long[0])
        raise DataError(
            f"{data.name}: series {i} has {data.lengths[i]} steps, more than the model's length "
            f"{length} (model.max_patches x model.patch_size = {length // patch_size} x "
            f"{patch_size}); {too_long.size} series are too long: raise model.max_patches"
        )
    too_short = np.flatnonzero(data.lengths < patch_size)
    if too_short.size:
        i = int(too_short[0])
        raise DataError(
            f"{data.name}: series {i} has {data.lengths[i]} steps, fewer than one patch "
            f"(model.patch_size = {patch_size}); {too_short.size} series are too short"
        )


def _padded(data: SeriesSet, length: int, normalize: bool) -> np.ndarray:
    """float32 [N, C, length]: the values, NaN-padded and optionally z-normalized per channel."""
    t = min(data.max_length, length)
    out = np.full((len(data), data.num_channels, length), np.nan, dtype=np.float32)
    out[:, :, :t] = data.values[:, :, :t]
    if not normalize:
        return out
    x = out.astype(np.float64)
    mean = np.nanmean(x, axis=2, keepdims=True)
    std = np.nanstd(x, axis=2, keepdims=True)
    return ((x - mean) / np.maximum(std, STD_FLOOR)).astype(np.float32)
