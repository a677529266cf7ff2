"""Tests for hjepa.modalities.image.ShapesDataset."""

import pytest
import torch

from hjepa.errors import ConfigError
from hjepa.modalities.image import SHAPE_NAMES, ShapesDataset


def test_items_are_deterministic_and_seed_dependent():
    a, b = ShapesDataset(num_samples=10, seed=3), ShapesDataset(num_samples=10, seed=3)
    other = ShapesDataset(num_samples=10, seed=4)
    assert torch.equal(a[7]["image"], b[7]["image"]) and a[7]["label"] == b[7]["label"]
    assert not torch.equal(a[7]["image"], other[7]["image"])
    assert not torch.equal(a[7]["image"], a[8]["image"])


@pytest.mark.parametrize("size, channels", [(32, 3), (16, 1)])
def test_shapes_dtype_range_and_labels(size, channels):
    ds = ShapesDataset(num_samples=64, image_size=size, channels=channels)
    assert len(ds) == 64
    labels = set()
    for i in range(len(ds)):
        item = ds[i]
        image = item["image"]
        assert image.shape == (channels, size, size) and image.dtype == torch.float32
        assert float(image.min()) >= -1.0 and float(image.max()) <= 1.0
        assert item["index"] == i and 0 <= item["label"] < len(SHAPE_NAMES)
        labels.add(item["label"])
        assert float(image.max()) - float(image.min()) > 0.5  # a visible shape
    assert labels == set(range(len(SHAPE_NAMES)))  # every class occurs


def test_index_errors_and_dataloader_batching():
    ds = ShapesDataset(num_samples=5, image_size=16)
    with pytest.raises(IndexError):
        ds[5]
    assert torch.equal(ds[-1]["image"], ds[4]["image"])
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 16, 16) and batch["label"].shape == (4,)


@pytest.mark.parametrize(
    "kwargs", [dict(num_samples=0), dict(image_size=4), dict(channels=0), dict(max_shapes=1.5)]
)
def test_invalid_arguments_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        ShapesDataset(**kwargs)
