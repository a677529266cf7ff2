"""Full training state on disk, written atomically: a kill mid-save never leaves a broken file.

A checkpoint is written to a temporary file in the same folder, flushed and fsynced, then renamed
over `last.pt` (rename is atomic on POSIX and Windows).
"""

import os
import tempfile
from pathlib import Path

import torch

from hjepa.errors import CheckpointError

LAST = "last.pt"


def save_checkpoint(state: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LAST
    _atomic_torch_save(state, path)
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


def _atomic_torch_save(obj, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
