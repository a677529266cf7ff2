"""Tests for the time-series data layer: SeriesSet, SeriesDataset, file loaders, procedural sets."""

import sys

import numpy as np
import pytest
import torch

from hjepa.errors import ConfigError, DataError
from hjepa.modalities.series import SeriesDataset, make_series_set
from hjepa.modalities.series_files import load_bundled, load_series, read_series_file
from hjepa.modalities.series_synthetic import (
    CLASS_NAMES,
    procedural_anomalies,
    procedural_classes,
    procedural_forecasting,
)
from hjepa.nets.series import valid_patches


def test_make_series_set_pads_and_records_lengths():
    data = make_series_set([np.arange(5.0), np.arange(3.0), np.ones(7)], None, "toy")
    assert data.values.shape == (3, 1, 7) and data.values.dtype == np.float32
    assert data.lengths.tolist() == [5, 3, 7] and data.lengths.dtype == np.int64
    assert np.isnan(data.values[1, 0, 3:]).all() and not np.isnan(data.values[1, 0, :3]).any()
    assert data.labels is None and data.classes == () and data.num_classes == 0
    assert len(data) == 3 and data.num_channels == 1 and data.max_length == 7


def test_labels_map_to_sorted_class_ids():
    data = make_series_set([np.ones(4)] * 4, ["10", "2", "b", 2], "toy")
    assert data.classes == ("2", "10", "b")
    assert data.labels.tolist() == [1, 0, 2, 0]


def test_trailing_nan_steps_are_padding_interior_nan_is_an_error():
    x = np.array([[1.0, 2.0, 6.0, np.nan], [3.0, 4.0, 5.0, np.nan]])
    assert make_series_set([x]).lengths.tolist() == [3]
    x[0, 2] = np.nan  # channels must end together
    with pytest.raises(DataError, match=r"series 0, channel 0, step 2"):
        make_series_set([x])
    bad = np.ones((2, 6))
    bad[1, 2] = np.nan
    with pytest.raises(DataError, match=r"series 1, channel 1, step 2"):
        make_series_set([np.ones((2, 6)), bad])
    with pytest.raises(DataError, match="series 0 has no valid step"):
        make_series_set([np.full(3, np.nan)])
    with pytest.raises(DataError, match="no series"):
        make_series_set([])


def test_channel_mismatch_names_index_and_counts():
    with pytest.raises(DataError, match="series 2 has 3 channels, series 0 has 2"):
        make_series_set([np.ones((2, 5)), np.ones((2, 5)), np.ones((3, 5))])


def test_subset_and_with_classes():
    train = make_series_set([np.ones(3)] * 3, ["a", "b", "c"], "train")
    test = make_series_set([np.ones(3)] * 2, ["c", "a"], "test").with_classes(train.classes)
    assert test.classes == ("a", "b", "c") and test.labels.tolist() == [2, 0]
    sub = train.subset([2, 0])
    assert sub.labels.tolist() == [2, 0] and sub.classes == train.classes
    assert train.subset(np.array([False, True, False])).labels.tolist() == [1]
    unseen = make_series_set([np.ones(3)], ["z"], "test")
    with pytest.raises(DataError, match="'z'"):
        unseen.with_classes(train.classes)


def test_dataset_normalizes_valid_steps_and_keeps_padding_nan():
    rng = np.random.default_rng(0)
    series = [rng.normal(5.0, 3.0, (2, 40)), rng.normal(-2.0, 0.5, (2, 23)), np.full((2, 16), 7.0)]
    ds = SeriesDataset(make_series_set(series, ["x", "y", "x"]), length=48, patch_size=8)
    for i, n in enumerate([40, 23, 16]):
        item = ds[i]
        x = item["series"]
        assert x.shape == (2, 48) and x.dtype == torch.float32 and item["index"] == i
        assert torch.isnan(x[:, n:]).all() and torch.isfinite(x[:, :n]).all()
        if i < 2:
            assert torch.allclose(x[:, :n].mean(1), torch.zeros(2), atol=1e-5)
            assert torch.allclose(x[:, :n].std(1, unbiased=False), torch.ones(2), atol=1e-4)
    assert torch.allclose(ds[2]["series"][:, :16], torch.zeros(2, 16), atol=1e-5)  # constant
    assert [ds[i]["label"] for i in range(3)] == [0, 1, 0]
    raw = SeriesDataset(make_series_set(series), length=48, patch_size=8, normalize=False)
    assert raw[0]["label"] == -1 and torch.allclose(raw[2]["series"][:, :16], torch.tensor(7.0))


def test_valid_patches_marks_exactly_the_full_patches():
    data = make_series_set([np.ones(32), np.ones(20), np.ones(8)])
    batch = torch.stack([item["series"] for item in SeriesDataset(data, 32, 8)])
    mask = valid_patches(batch, 8)
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[True] * 4, [True, True, False, False], [True, False, False, False]]
    batch[0, 0, 13] = float("inf")  # one bad value in one channel spoils its patch
    assert valid_patches(batch, 8)[0].tolist() == [True, False, True, True]


def test_dataset_rejects_bad_lengths():
    data = make_series_set([np.ones(16), np.ones(40), np.ones(5)])
    with pytest.raises(DataError, match=r"series 1 has 40 steps.*model.max_patches"):
        SeriesDataset(data.subset([0, 1]), length=32, patch_size=8)
    with pytest.raises(DataError, match=r"series 1 has 5 steps.*patch"):
        SeriesDataset(data.subset([0, 2]), length=32, patch_size=8)
    with pytest.raises(ConfigError, match="multiple"):
        SeriesDataset(data.subset([0]), length=30, patch_size=8)


def test_csv_round_trip_with_labels_and_shorter_rows(tmp_path):
    path = tmp_path / "walk.csv"
    path.write_text("t0,t1,label,t2,t3\n1,2,cat,3,4\n5,6,dog,7,\n\n8,9,cat,,\n0,1,dog,nan,NaN\n")
    data = read_series_file(path)
    assert data.name == "walk.csv" and data.classes == ("cat", "dog")
    assert data.labels.tolist() == [0, 1, 0, 1] and data.lengths.tolist() == [4, 3, 2, 2]
    assert data.values[1, 0, :3].tolist() == [5, 6, 7] and np.isnan(data.values[1, 0, 3])


def test_csv_without_header_and_corrupt_cells(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("1,2,3\n4,5,6\n")
    data = read_series_file(plain)
    assert data.labels is None and data.values[:, 0].tolist() == [[1, 2, 3], [4, 5, 6]]
    bad = tmp_path / "bad.csv"
    bad.write_text("label,a,b\nx,1,2\ny,3,oops\n")
    with pytest.raises(DataError, match=r"bad\.csv.*row 3.*'oops'"):
        read_series_file(bad)
    hole = tmp_path / "hole.csv"
    hole.write_text("1,,3\n")
    with pytest.raises(DataError, match=r"hole\.csv.*row 1.*empty cell"):
        read_series_file(hole)


def test_npy_and_npz_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    x3 = rng.normal(size=(4, 2, 10)).astype(np.float32)
    np.save(tmp_path / "a.npy", x3)
    data = read_series_file(tmp_path / "a.npy")
    assert np.array_equal(data.values, x3) and data.labels is None
    x2 = rng.normal(size=(3, 12))
    x2[1, 9:] = np.nan
    np.savez(tmp_path / "b.npz", X=x2, y=np.array([3, 1, 3]))
    data = read_series_file(tmp_path / "b.npz")
    assert data.values.shape == (3, 1, 12) and data.lengths.tolist() == [12, 9, 12]
    assert data.classes == ("1", "3") and data.labels.tolist() == [1, 0, 1]
    np.save(tmp_path / "c.npy", np.ones(5))
    with pytest.raises(DataError, match=r"c\.npy.*\[N, T\]"):
        read_series_file(tmp_path / "c.npy")
    np.savez(tmp_path / "d.npz", data=x2)
    with pytest.raises(DataError, match=r"d\.npz.*'X'"):
        read_series_file(tmp_path / "d.npz")


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "x.parquet").write_text("")
    with pytest.raises(DataError, match=r"\.csv.*\.npy.*\.npz.*\.ts"):
        read_series_file(tmp_path / "x.parquet")
    with pytest.raises(DataError, match="nothere.csv"):
        read_series_file(tmp_path / "nothere.csv")
    with pytest.raises(DataError, match="nothere.npz"):
        load_series(str(tmp_path / "nothere.npz"))


def test_ts_file(tmp_path):
    pytest.importorskip("aeon")
    path = tmp_path / "tiny.ts"
    header = "@problemName tiny\n@timeStamps false\n@univariate true\n@equalLength false\n"
    path.write_text(header + "@classLabel true a b\n@data\n1,2,3:b\n4,5:a\n")
    data = read_series_file(path)
    assert data.lengths.tolist() == [3, 2] and data.labels.tolist() == [1, 0]
    path.write_text(header + "@classLabel true a b\n@data\n1,zz,3:b\n")
    with pytest.raises(DataError, match="tiny.ts"):
        read_series_file(path)


def test_bundled_datasets():
    pytest.importorskip("aeon")
    gun = load_bundled("GunPoint", "train")
    assert gun.values.shape == (50, 1, 150) and gun.num_classes == 2
    assert (gun.lengths == 150).all() and gun.name == "GunPoint"
    vowels = load_series("JapaneseVowels", "test")
    assert vowels.num_channels == 12 and len(set(vowels.lengths.tolist())) > 1
    with pytest.raises(ConfigError, match="GunPoint"):
        load_bundled("NoSuchSet")
    with pytest.raises(ConfigError, match="GunPoint"):
        load_bundled("../GunPoint")
    with pytest.raises(ConfigError, match="split"):
        load_bundled("GunPoint", "valid")


def test_missing_aeon_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "aeon", None)
    monkeypatch.setitem(sys.modules, "aeon.datasets", None)
    with pytest.raises(ConfigError, match=r"hjepa\[timeseries\]"):
        load_bundled("GunPoint")
    (tmp_path / "a.ts").write_text("@data\n")
    with pytest.raises(ConfigError, match=r"hjepa\[timeseries\]"):
        read_series_file(tmp_path / "a.ts")


def test_procedural_classes_deterministic_and_balanced():
    a, b = procedural_classes(40, length=64, seed=3), procedural_classes(40, length=64, seed=3)
    other = procedural_classes(40, length=64, seed=4)
    assert np.array_equal(a.values, b.values) and not np.allclose(a.values, other.values)
    assert a.classes == CLASS_NAMES and np.bincount(a.labels).tolist() == [10] * 4
    assert np.isfinite(a.values).all() and a.values.shape == (40, 1, 64)
    assert procedural_classes(8, channels=3).num_channels == 3
    train, test = load_series("procedural"), load_series("procedural", "test")
    assert len(train) == len(test) and not np.allclose(train.values, test.values)


def test_procedural_anomalies_mask_rate():
    data, mask = procedural_anomalies(60, length=256, seed=1, rate=0.02)
    again, mask2 = procedural_anomalies(60, length=256, seed=1, rate=0.02)
    assert np.array_equal(data.values, again.values) and np.array_equal(mask, mask2)
    assert mask.shape == (60, 256) and mask.dtype == bool and mask.any(axis=1).all()
    assert 0.01 <= mask.mean() <= 0.03
    normal = np.abs(np.diff(data.values[:, 0], axis=1))[~(mask[:, 1:] | mask[:, :-1])]
    jumps = np.abs(np.diff(data.values[:, 0], axis=1))[mask[:, 1:] & ~mask[:, :-1]]
    assert np.median(jumps) > 2 * np.median(normal)  # anomalies start with a visible jump


def test_procedural_forecasting_shape():
    data = procedural_forecasting(length=1024, seed=2, channels=2)
    assert data.values.shape == (1, 2, 1024) and np.isfinite(data.values).all()
    assert np.array_equal(procedural_forecasting(1024, 2, 2).values, data.values)
