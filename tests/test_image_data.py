"""Tests for the procedural image sets: ShapesDataset and ClutterDataset."""

import pytest
import torch

from hjepa.config import load_config
from hjepa.errors import ConfigError
from hjepa.eval.classify import LinearClassifier, accuracy
from hjepa.modalities.clutter import CLUTTER_CLASSES, ClutterDataset
from hjepa.modalities.image import SHAPE_NAMES, ShapesDataset
from hjepa.modalities.image_splits import image_dataset

SETS = [ShapesDataset, ClutterDataset]


@pytest.mark.parametrize("cls", SETS)
def test_items_are_deterministic_and_depend_on_seed_split_and_index(cls):
    a, b = cls(num_samples=10, seed=3), cls(num_samples=10, seed=3)
    assert torch.equal(a[7]["image"], b[7]["image"]) and a[7]["label"] == b[7]["label"]
    assert torch.equal(a[7]["factors"], b[7]["factors"])
    others = [cls(num_samples=10, seed=4)[7], cls(num_samples=10, seed=3, split="test")[7], a[8]]
    assert all(not torch.equal(a[7]["image"], other["image"]) for other in others)


@pytest.mark.parametrize("cls", SETS)
def test_train_and_test_splits_share_no_image(cls):
    train, test = cls(num_samples=40, image_size=16), cls(40, image_size=16, split="test")
    seen = {train[i]["image"].numpy().tobytes() for i in range(len(train))}
    assert not seen & {test[i]["image"].numpy().tobytes() for i in range(len(test))}


@pytest.mark.parametrize(
    "cls, names", [(ShapesDataset, SHAPE_NAMES), (ClutterDataset, CLUTTER_CLASSES)]
)
@pytest.mark.parametrize("size, channels", [(32, 3), (16, 1), (96, 3)])
def test_items_follow_the_contract(cls, names, size, channels):
    ds = cls(num_samples=96, image_size=size, channels=channels)
    assert ds.num_classes == len(ds.class_names) == len(names) and ds.class_names == names
    labels = set()
    for i in range(len(ds)):
        item = ds[i]
        image, factors = item["image"], item["factors"]
        assert image.shape == (channels, size, size) and image.dtype == torch.float32
        assert float(image.min()) >= -1.0 and float(image.max()) <= 1.0
        assert float(image.max()) - float(image.min()) > 0.3  # something is drawn
        assert item["index"] == i and 0 <= item["label"] < len(names)
        assert factors.shape == (len(ds.factor_names),) and factors.dtype == torch.float32
        assert float(factors.min()) >= 0.0 and float(factors.max()) <= 1.0
        labels.add(item["label"])
    assert labels == set(range(len(names)))  # every class occurs


def test_shape_factors_describe_the_labelled_shape():
    ds = ShapesDataset(num_samples=200, image_size=32, max_shapes=1)
    factors = torch.stack([ds[i]["factors"] for i in range(len(ds))])
    x, y, size, colour = factors.T
    assert ds.factor_names == ("x", "y", "size", "colour")
    assert bool(((size >= 0.1) & (size <= 0.25)).all())
    assert bool(((x >= size) & (x <= 1 - size) & (y >= size) & (y <= 1 - size)).all())
    assert bool(((colour >= 0.45) & (colour <= 1.0)).all())
    # one shape: the image is brightest around the shape's centre
    item = ds[0]
    row, col = (int(v * 32) for v in (item["factors"][1], item["factors"][0]))
    assert float(item["image"][:, row, col].mean()) > float(item["image"].mean())


def test_clutter_factors_are_in_range_and_round_shapes_have_no_rotation():
    ds = ClutterDataset(num_samples=300, image_size=32)
    items = [ds[i] for i in range(len(ds))]
    x, y, size, rotation = torch.stack([item["factors"] for item in items]).T
    labels = torch.tensor([item["label"] for item in items])
    assert ds.factor_names == ("x", "y", "size", "rotation")
    assert bool(((size >= 0.12) & (size <= 0.2)).all())
    assert bool(((x >= 1.6 * size) & (x <= 1 - 1.6 * size)).all())
    round_ = (labels == CLUTTER_CLASSES.index("disc")) | (labels == CLUTTER_CLASSES.index("ring"))
    assert bool((rotation[round_] == 0).all()) and float(rotation[~round_].std()) > 0.2


def test_clutter_classes_have_equal_areas():
    mask = ClutterDataset._shape_mask
    grid = (torch.arange(400, dtype=torch.float64) + 0.5) / 400 - 0.5
    dy, dx = (g.numpy() for g in torch.meshgrid(grid, grid, indexing="ij"))
    for angle in (0.0, 0.4):
        areas = [mask(kind, 0.15, dx, dy, angle).mean() for kind in range(len(CLUTTER_CLASSES))]
        assert max(areas) / min(areas) < 1.02, areas


def test_index_errors_and_dataloader_batching():
    ds = ClutterDataset(num_samples=5, image_size=16)
    with pytest.raises(IndexError):
        ds[5]
    assert torch.equal(ds[-1]["image"], ds[4]["image"])
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 16, 16) and batch["label"].shape == (4,)
    assert batch["factors"].shape == (4, 4)


@pytest.mark.parametrize("cls", SETS)
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(num_samples=0),
        dict(image_size=4),
        dict(channels=0),
        dict(seed=-1),
        dict(split="valid"),
    ],
)
def test_invalid_arguments_raise_config_error(cls, kwargs):
    with pytest.raises(ConfigError, match=cls.__name__):
        cls(**kwargs)


def test_max_shapes_is_checked():
    with pytest.raises(ConfigError, match="max_shapes"):
        ShapesDataset(max_shapes=1.5)


def test_config_picks_the_procedural_set_and_split():
    cfg = load_config(None, ["data.source=clutter", "data.num_samples=30", "data.test_samples=7"])
    train, test = image_dataset(cfg, "train"), image_dataset(cfg, "test")
    assert isinstance(train, ClutterDataset) and (len(train), len(test)) == (30, 7)
    assert (train.split, test.split) == ("train", "test")
    assert isinstance(image_dataset(load_config(None, ["data.source="])), ShapesDataset)
    with pytest.raises(ConfigError, match="data.test_source"):
        image_dataset(load_config(None, ["data.test_source=test.npz"]))


def pixels(ds) -> tuple[torch.Tensor, torch.Tensor]:
    """Every item's pixels as one row [N, C*H*W], and the labels [N]."""
    items = [ds[i] for i in range(len(ds))]
    labels = torch.tensor([item["label"] for item in items])
    return torch.stack([item["image"].flatten() for item in items]), labels


def test_a_linear_classifier_on_pixels_reads_shapes_but_not_clutter():
    """The point of the clutter set: its class is not a linear function of the pixels. (At
    32 px, 3 channels, 10000 training images: 33 % on shapes, chance 25 %; 17 % on clutter,
    chance 17 %.)"""
    torch.set_num_threads(1)  # fits on 144 features: threads only add overhead (reset per test)
    above_chance = {}
    for cls in SETS:
        train = pixels(cls(2000, image_size=12, channels=1))
        test = pixels(cls(800, image_size=12, channels=1, split="test"))
        probe = LinearClassifier(*train, max_iter=100)
        above_chance[cls] = accuracy(probe.predict(test[0]), test[1]) - 1 / len(cls.class_names)
    assert above_chance[ShapesDataset] > 0.07
    assert above_chance[ClutterDataset] < 0.03
