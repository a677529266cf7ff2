"""The video data a config names (`data.name: video`): its training or test split.

`data.source`:
- "" or `moving_objects`: procedural clips (`MovingObjectsDataset`), data.num_samples for
  training and data.test_samples for testing, from disjoint random streams of `train.seed`;
- a folder of class folders of clips (`VideoFolderDataset`); the test split is
  `data.test_source` (a second such folder, labelled with the training classes) or else a
  seeded `data.held_out` share of the clips.

Every clip has data.frames frames of data.image_size pixels and data.channels channels.
"""

from pathlib import Path

from torch.utils.data import Dataset, Subset

from hjepa.config import Config
from hjepa.data.windows import split_episodes
from hjepa.errors import ConfigError, DataError
from hjepa.modalities.image import SPLITS
from hjepa.modalities.video import MovingObjectsDataset
from hjepa.modalities.video_files import VideoFolderDataset


def video_dataset(cfg: Config, split: str = "train") -> Dataset:
    """The `split` ("train" or "test") of `data.source`."""
    if split not in SPLITS:
        raise ConfigError(f"video split must be one of {SPLITS}, got {split!r}")
    d = cfg.data
    if d.source in ("", "moving_objects"):
        count = d.num_samples if split == "train" else d.test_samples
        return MovingObjectsDataset(
            count, d.frames, d.image_size, d.channels, seed=cfg.train.seed, split=split
        )
    if not Path(d.source).is_dir():
        raise DataError(
            f"data.source: {d.source!r} is neither `moving_objects` nor a folder of class "
            "folders of clips"
        )
    clips = VideoFolderDataset(d.source, d.frames, d.image_size, d.channels)
    if d.test_source:
        if split == "train":
            return clips
        return VideoFolderDataset(
            d.test_source, d.frames, d.image_size, d.channels, class_names=clips.class_names
        )
    train, test = split_episodes(len(clips), d.held_out, cfg.train.seed)
    if not train or not test:
        raise ConfigError(
            f"{d.source}: with no data.test_source, data.held_out={d.held_out} of {len(clips)} "
            "clips must leave at least one clip for testing and one for training"
        )
    return Subset(clips, train if split == "train" else test)
