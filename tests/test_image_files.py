"""Tests for images read from files (folders of class sub-folders, .npz) and the digits set,
and for how a config picks their training and test splits."""

import numpy as np
import pytest
import torch
from PIL import Image

from hjepa.config import load_config
from hjepa.errors import ConfigError, DataError
from hjepa.modalities.image_files import load_digits, read_image_folder, read_image_npz
from hjepa.modalities.image_splits import image_dataset


def write_folder(root, classes=("cat", "dog"), count=3, size=16, mode="RGB", seed=0):
    """PNGs of random pixels in root/<class>/; {class: [uint8 arrays]} in file order."""
    rng = np.random.default_rng(seed)
    shape = (size, size, 3) if mode == "RGB" else (size, size)
    written = {}
    for name in classes:
        (root / name).mkdir(parents=True)
        written[name] = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]
        for k, pixels in enumerate(written[name]):
            Image.fromarray(pixels, mode).save(root / name / f"{k}.png")
    return written


def config(source, *overrides):
    return load_config(None, [f"data.source={source}", "data.image_size=16", *overrides])


def test_a_folder_reads_back_exactly(tmp_path):
    written = write_folder(tmp_path, classes=("dog", "cat"))
    data = read_image_folder(tmp_path, 16, 3)
    assert data.class_names == ("cat", "dog") and data.num_classes == 2 and len(data) == 6
    assert data.factor_names == ()
    expected = np.stack(written["cat"] + written["dog"]).transpose(0, 3, 1, 2)
    assert np.array_equal(data.images.numpy(), expected)
    item = data[4]
    assert item["label"] == 1 and item["index"] == 4 and item["image"].dtype == torch.float32
    torch.testing.assert_close(item["image"], torch.from_numpy(expected[4]).float() / 127.5 - 1)
    batch = next(iter(torch.utils.data.DataLoader(data, batch_size=4)))
    assert batch["image"].shape == (4, 3, 16, 16) and batch["label"].tolist() == [0, 0, 0, 1]


def test_grayscale_bmp_and_jpeg_files_are_read(tmp_path):
    write_folder(tmp_path, classes=("a",), mode="L", count=1)
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(pixels, "L").save(tmp_path / "a" / "1.BMP")
    Image.fromarray(pixels, "L").save(tmp_path / "a" / "2.jpg")
    (tmp_path / "a" / "notes.txt").write_text("not an image, ignored")
    data = read_image_folder(tmp_path, 16, 1)
    assert data.images.shape == (3, 1, 16, 16)
    assert np.array_equal(data.images[1, 0].numpy(), pixels)


@pytest.mark.parametrize(
    "damage, channels, words",
    [
        (lambda p: Image.new("RGB", (20, 16)).save(p), 3, ["20x16 pixels", "expected 16x16"]),
        (lambda p: Image.new("L", (16, 16)).save(p), 3, ["mode L", "data.channels=3"]),
        (lambda p: Image.new("RGBA", (16, 16)).save(p), 3, ["mode RGBA", "RGB"]),
        (lambda p: Image.new("RGB", (16, 16)).save(p), 1, ["mode RGB", "data.channels=1"]),
        (lambda p: p.write_bytes(b"\x89PNG garbage"), 3, ["not a readable image"]),
        (lambda p: p.write_bytes(p.read_bytes()[:60]), 3, ["not a readable image"]),
    ],
)
def test_an_unusable_image_is_named(tmp_path, damage, channels, words):
    write_folder(tmp_path, mode="RGB" if channels == 3 else "L")
    bad = tmp_path / "dog" / "1.png"
    damage(bad)
    with pytest.raises(DataError) as error:
        read_image_folder(tmp_path, 16, channels)
    assert str(error.value).startswith(f"{bad}: ")
    assert all(word in str(error.value) for word in words), str(error.value)


def test_folders_that_hold_no_images_are_named(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'none'}: no such folder"):
        read_image_folder(tmp_path / "none", 16, 3)
    with pytest.raises(DataError, match=f"{tmp_path}: no class folders"):
        read_image_folder(tmp_path, 16, 3)
    write_folder(tmp_path)
    (tmp_path / "emu").mkdir()
    (tmp_path / "emu" / "notes.txt").write_text("no images")
    with pytest.raises(DataError, match=f"{tmp_path / 'emu'}: class folder holds no images"):
        read_image_folder(tmp_path, 16, 3)


def test_an_image_file_channel_count_other_than_1_or_3_is_refused(tmp_path):
    write_folder(tmp_path)
    with pytest.raises(DataError, match="data.channels=4 reads no image files"):
        read_image_folder(tmp_path, 16, 4)


def npz(tmp_path, name="set.npz", **arrays):
    np.savez(tmp_path / name, **arrays)
    return tmp_path / name


@pytest.fixture
def uint8_images():
    return np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)


def test_npz_layouts_and_value_ranges_give_the_same_images(tmp_path, uint8_images):
    labels = np.array([0, 1, 2, 1, 0])
    reference = read_image_npz(npz(tmp_path, images=uint8_images, labels=labels), 16, 3)
    assert reference.class_names == ("0", "1", "2") and reference.labels.tolist() == labels.tolist()
    expected = torch.stack([reference[i]["image"] for i in range(5)])
    for images in (
        uint8_images.transpose(0, 3, 1, 2),  # channels first
        uint8_images.astype(np.int64),
        uint8_images / 255.0,  # floats in [0, 1]
        (uint8_images / 127.5 - 1.0).astype(np.float32),  # floats in [-1, 1]
    ):
        data = read_image_npz(npz(tmp_path, images=images, labels=labels), 16, 3)
        got = torch.stack([data[i]["image"] for i in range(5)])
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    gray = read_image_npz(npz(tmp_path, images=uint8_images[..., 0], labels=labels), 16, 1)
    assert gray[2]["image"].shape == (1, 16, 16)


@pytest.mark.parametrize(
    "arrays, words",
    [
        (dict(images=np.zeros((5, 16, 16, 3), np.uint8)), "no array 'labels'"),
        (dict(pixels=np.zeros(3), labels=np.zeros(5, int)), "no array 'images'"),
        (dict(images=np.zeros((5, 16, 16, 3), np.uint8), labels=np.zeros(4, int)), "labels has"),
        (dict(images=np.zeros((5, 16, 16, 1), np.uint8), labels=np.zeros(5, int)), "shape"),
        (dict(images=np.zeros((5, 8, 8, 3), np.uint8), labels=np.zeros(5, int)), "16, 16, 3"),
        (dict(images=np.full((5, 16, 16, 3), np.nan), labels=np.zeros(5, int)), "NaN"),
        (dict(images=np.full((5, 16, 16, 3), 2.0), labels=np.zeros(5, int)), "[-1, 1]"),
        (dict(images=np.full((5, 16, 16, 3), 300), labels=np.zeros(5, int)), "0..255"),
        (dict(images=np.zeros((5, 16, 16, 3), bool), labels=np.zeros(5, int)), "got bool"),
        (dict(images=np.zeros((5, 16, 16, 3)), labels=np.zeros(5)), "integers"),
        (dict(images=np.zeros((5, 16, 16, 3)), labels=-np.ones(5, int)), "-1"),
        (dict(images=np.zeros((0, 16, 16, 3)), labels=np.zeros(0, int)), "holds no images"),
    ],
)
def test_an_unusable_npz_is_named(tmp_path, arrays, words):
    path = npz(tmp_path, **arrays)
    with pytest.raises(DataError) as error:
        read_image_npz(path, 16, 3)
    assert str(error.value).startswith(f"{path}: ") and words in str(error.value), error.value


def test_a_missing_or_unreadable_npz_is_named(tmp_path):
    with pytest.raises(DataError, match="none.npz: no such file"):
        read_image_npz(tmp_path / "none.npz", 16, 3)
    (tmp_path / "bad.npz").write_bytes(b"PK garbage")
    with pytest.raises(DataError, match="bad.npz: not a readable .npz file"):
        read_image_npz(tmp_path / "bad.npz", 16, 3)


@pytest.mark.parametrize("size, channels", [(8, 1), (32, 3)])
def test_digits_are_upsampled_and_labelled(size, channels):
    pytest.importorskip("sklearn")
    digits = load_digits(size, channels)
    assert len(digits) == 1797 and digits.class_names == tuple("0123456789")
    assert digits.images.shape == (1797, channels, size, size)
    assert set(digits.labels.tolist()) == set(range(10))
    item = digits[0]
    assert item["image"].shape == (channels, size, size) and item["label"] == 0
    assert float(item["image"].min()) == -1.0 and float(item["image"].max()) <= 1.0
    if channels == 3:
        assert torch.equal(item["image"][0], item["image"][2])


def test_digits_config_holds_out_a_seeded_share():
    pytest.importorskip("sklearn")
    cfg = config("digits", "data.channels=1", "data.held_out=0.2", "train.seed=3")
    train, test = image_dataset(cfg, "train"), image_dataset(cfg, "test")
    assert (len(train), len(test)) == (1438, 359)
    again = image_dataset(cfg, "test")
    assert torch.equal(test.images, again.images) and torch.equal(test.labels, again.labels)
    other = image_dataset(config("digits", "data.channels=1", "data.held_out=0.2"), "test")
    assert not torch.equal(test.labels, other.labels)


def test_a_folder_config_splits_disjointly(tmp_path):
    write_folder(tmp_path / "set", count=10)
    cfg = config(tmp_path / "set", "data.held_out=0.25")
    train, test = image_dataset(cfg, "train"), image_dataset(cfg, "test")
    assert (len(train), len(test)) == (15, 5) and train.class_names == test.class_names
    rows = {bytes(image.numpy()) for image in train.images}
    assert not rows & {bytes(image.numpy()) for image in test.images}


def test_a_test_folder_is_labelled_with_the_training_class_names(tmp_path):
    write_folder(tmp_path / "train", classes=("ant", "bee", "cow"), count=2)
    write_folder(tmp_path / "test", classes=("bee", "cow"), count=2, seed=1)
    cfg = config(tmp_path / "train", f"data.test_source={tmp_path / 'test'}")
    test = image_dataset(cfg, "test")
    assert test.class_names == ("ant", "bee", "cow") and test.labels.tolist() == [1, 1, 2, 2]
    assert len(image_dataset(cfg, "train")) == 6
    write_folder(tmp_path / "other", classes=("bee", "yak"), count=1)
    cfg = config(tmp_path / "train", f"data.test_source={tmp_path / 'other'}")
    with pytest.raises(DataError, match=r"other: class\(es\) \['yak'\] do not occur"):
        image_dataset(cfg, "train")


def test_a_bad_test_file_is_named_when_the_training_split_is_built(tmp_path):
    write_folder(tmp_path / "train")
    cfg = config(tmp_path / "train", f"data.test_source={tmp_path / 'test.npz'}")
    with pytest.raises(DataError, match="test.npz: no such file"):
        image_dataset(cfg, "train")


def test_a_share_that_leaves_a_split_empty_is_refused(tmp_path):
    write_folder(tmp_path / "set", classes=("a",), count=1)
    with pytest.raises(ConfigError, match="data.held_out=0.1 of 1 images"):
        image_dataset(config(tmp_path / "set"))
    write_folder(tmp_path / "two", classes=("a",), count=2)
    with pytest.raises(ConfigError, match="data.held_out=0.0 of 2 images"):
        image_dataset(config(tmp_path / "two", "data.held_out=0"))


def test_unknown_and_missing_sources_are_told_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="'mnist' is neither an image set .*shapes, clutter"):
        image_dataset(config("mnist"))
    with pytest.raises(DataError, match="data/pets: no such folder"):
        image_dataset(config("data/pets"))
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="notes.txt: not a folder of class sub-folders"):
        image_dataset(config("notes.txt"))
