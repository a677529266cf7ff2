"""The training and test series a time-series config names (`data.name: series`).

- a bundled dataset or `procedural`: its standard train / test split;
- a file: its series are the training split; `data.test_source` names the test file, or else a
  seeded `data.held_out` share of the file's series is the test split.

Test labels are mapped onto the training split's class names, so label k means the same class
in both. `data.normalize` scales both splits the same way (the training split's statistics
per channel), each series on its own, or not at all.
"""

from dataclasses import replace

import numpy as np

from hjepa.errors import ConfigError, DataError
from hjepa.modalities.series import STD_FLOOR, SeriesDataset, SeriesSet
from hjepa.modalities.series_files import (
    BUNDLED,
    is_file_source,
    load_series,
    read_series_file,
)

SPLITS = ("train", "test")


def series_sets(data_cfg, seed: int) -> tuple[SeriesSet, SeriesSet]:
    """(train, test) of `data_cfg` (a DataConfig)."""
    if not data_cfg.source:
        raise ConfigError(
            f"data.source: name a bundled dataset ({', '.join(BUNDLED)}), procedural, or a "
            ".csv / .npy / .npz / .ts file"
        )
    train = load_series(data_cfg.source, "train", seed)
    if data_cfg.test_source:
        test = read_series_file(data_cfg.test_source)
    elif is_file_source(data_cfg.source):
        train, test = _held_out_split(train, data_cfg.held_out, seed)
    else:
        test = load_series(data_cfg.source, "test", seed)
    return train, test.with_classes(train.classes)


def series_dataset(cfg, split: str = "train") -> SeriesDataset:
    """The `split` ("train" or "test") of the config's series, padded to the model's length."""
    if split not in SPLITS:
        raise ConfigError(f"series split must be one of {SPLITS}, got {split!r}")
    data = _normalized(*series_sets(cfg.data, cfg.train.seed), cfg.data.normalize)
    data = data[SPLITS.index(split)]
    if data.num_channels != cfg.data.channels:
        raise DataError(
            f"{data.name}: the series have {data.num_channels} channel(s), the config "
            f"data.channels={cfg.data.channels}"
        )
    m = cfg.model
    each = cfg.data.normalize == "series"
    return SeriesDataset(data, m.max_patches * m.patch_size, m.patch_size, normalize=each)


def _normalized(train: SeriesSet, test: SeriesSet, how: str) -> tuple[SeriesSet, SeriesSet]:
    """Both splits z-normalized per channel with the training split's statistics, for `how`
    = "channel" (each series' own, for "series", is done by `SeriesDataset`)."""
    if how != "channel":
        return train, test
    mean = np.nanmean(train.values, axis=(0, 2), keepdims=True)
    std = np.maximum(np.nanstd(train.values, axis=(0, 2), keepdims=True), STD_FLOOR)
    return tuple(
        replace(d, values=((d.values - mean) / std).astype(np.float32)) for d in (train, test)
    )


def _held_out_split(data: SeriesSet, share: float, seed: int) -> tuple[SeriesSet, SeriesSet]:
    count = round(share * len(data))
    if not 1 <= count < len(data):
        raise ConfigError(
            f"{data.name}: with no data.test_source, data.held_out={share} of {len(data)} series "
            "must leave at least one series for testing and one for training"
        )
    order = np.random.default_rng(seed).permutation(len(data))
    return data.subset(np.sort(order[count:])), data.subset(np.sort(order[:count]))
