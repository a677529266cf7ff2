"""The image data a config names (`data.name: images`): its training or test split."""

from torch.utils.data import Dataset

from hjepa.config import Config
from hjepa.errors import ConfigError
from hjepa.modalities.image import ShapesDataset

SPLITS = ("train", "test")


def image_dataset(cfg: Config, split: str = "train") -> Dataset:
    """The `split` ("train" or "test") of `data.source`."""
    if split not in SPLITS:
        raise ConfigError(f"image split must be one of {SPLITS}, got {split!r}")
    d = cfg.data
    source = d.source or "shapes"
    if source != "shapes":
        raise ConfigError(f"data.source: unknown image source {source!r}")
    count = d.num_samples if split == "train" else d.test_samples
    seed = cfg.train.seed if split == "train" else cfg.train.seed + 1_000_003
    return ShapesDataset(count, d.image_size, d.channels, seed=seed)
