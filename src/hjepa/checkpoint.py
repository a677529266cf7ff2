"""Full training state on disk, written atomically: a kill mid-save never leaves a broken file.

A checkpoint is written with `hjepa.io.atomic_write` (a temporary file renamed over `last.pt`).
"""

from pathlib import Path

import torch

from hjepa.errors import CheckpointError
from hjepa.io import atomic_write

LAST = "last.pt"


def save_checkpoint(state: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LAST
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    return path


def load_checkpoint(path: Path) -> dict:
    """Load a checkpoint written by `save_checkpoint`; CheckpointError if missing or unreadable."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for truncated/corrupt files
        raise CheckpointError(f"checkpoint {path} is unreadable ({exc})") from exc


def latest_checkpoint(directory: Path) -> Path | None:
    path = directory / LAST
    return path if path.is_file() else None
