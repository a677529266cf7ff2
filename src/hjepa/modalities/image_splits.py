"""The image data a config names (`data.name: images`): its training or test split.

`data.source`:
- "" or `shapes`, `clutter`: procedural (`ShapesDataset`, `ClutterDataset`); the training
  split has data.num_samples images, the test split data.test_samples, from disjoint random
  streams of `train.seed`;
- `digits`: scikit-learn's 1797 handwritten digits (needs `pip install 'hjepa[images]'`);
- a folder of class sub-folders, or a .npz file (formats: `image_files.py`).

For the last two the test split is `data.test_source` (a folder or .npz file, its classes
mapped onto the training split's class names) or else a seeded `data.held_out` share of the
source's images. Files are read and checked in full whichever split is asked for, so an
unusable test file is named before training starts.
"""

from pathlib import Path

from torch.utils.data import Dataset

from hjepa.config import Config
from hjepa.data.windows import split_episodes
from hjepa.errors import ConfigError
from hjepa.modalities.clutter import ClutterDataset
from hjepa.modalities.image import SPLITS, ShapesDataset
from hjepa.modalities.image_files import ImageArray, load_digits, read_image_source

PROCEDURAL = {"shapes": ShapesDataset, "clutter": ClutterDataset}
NAMED = (*PROCEDURAL, "digits")


def image_dataset(cfg: Config, split: str = "train") -> Dataset:
    """The `split` ("train" or "test") of `data.source`."""
    if split not in SPLITS:
        raise ConfigError(f"image split must be one of {SPLITS}, got {split!r}")
    d = cfg.data
    source = d.source or "shapes"
    if source in PROCEDURAL:
        if d.test_source:
            raise ConfigError(
                f"data.test_source: the procedural source {source!r} draws its own test split "
                "(data.test_samples); a test file needs a folder, .npz or digits source"
            )
        count = d.num_samples if split == "train" else d.test_samples
        return PROCEDURAL[source](count, d.image_size, d.channels, seed=cfg.train.seed, split=split)
    return image_arrays(cfg.data, cfg.train.seed)[SPLITS.index(split)]


def image_arrays(data_cfg, seed: int) -> tuple[ImageArray, ImageArray]:
    """(train, test) of a digits, folder or .npz source of `data_cfg` (a DataConfig)."""
    size, channels = data_cfg.image_size, data_cfg.channels
    source, path = data_cfg.source, Path(data_cfg.source)
    if source == "digits":
        train = load_digits(size, channels)
    elif path.suffix.lower() == ".npz" or len(path.parts) > 1 or path.exists():
        train = read_image_source(path, size, channels)
    else:
        raise ConfigError(
            f"data.source: {source!r} is neither an image set ({', '.join(NAMED)}) nor an "
            "existing folder of class sub-folders or .npz file"
        )
    if data_cfg.test_source:
        test = read_image_source(data_cfg.test_source, size, channels)
        return train, test.with_classes(train.class_names)
    return _held_out(train, data_cfg.held_out, seed)


def _held_out(data: ImageArray, share: float, seed: int) -> tuple[ImageArray, ImageArray]:
    """(train, test): a `share` of the images drawn with `seed` for testing, the rest for
    training; ConfigError if either would be empty."""
    train, test = split_episodes(len(data), share, seed)
    if not train or not test:
        raise ConfigError(
            f"{data.name}: with no data.test_source, data.held_out={share} of {len(data)} "
            "images must leave at least one image for testing and one for training"
        )
    return data.subset(train), data.subset(test)
