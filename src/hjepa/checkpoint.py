"""Full training state on disk, written atomically and checksummed: a kill mid-save never
leaves a broken file, and a file damaged later is refused instead of resumed.

A checkpoint file is `MAGIC`, the SHA-256 of the payload (32 bytes), then the payload (what
`torch.save` writes), written with `hjepa.io.atomic_write`. Files written before the checksum
(no `MAGIC`) still load, unchecked.
"""

import hashlib
import io
from pathlib import Path

import torch

from hjepa.errors import CheckpointError
from hjepa.io import atomic_write

LAST = "last.pt"
MAGIC = b"HJEPA-CHECKPOINT-SHA256\n"


def save_checkpoint(state: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    framed = MAGIC + hashlib.sha256(payload).digest() + payload
    path = directory / LAST
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(framed))
    return path


def load_checkpoint(path: Path) -> dict:
    """Load a checkpoint written by `save_checkpoint`; CheckpointError if missing, unreadable or
    damaged (its checksum does not match)."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    data = path.read_bytes()
    source = path
    if data.startswith(MAGIC):
        digest, payload = data[len(MAGIC) : len(MAGIC) + 32], data[len(MAGIC) + 32 :]
        if hashlib.sha256(payload).digest() != digest:
            raise CheckpointError(
                f"checkpoint {path} is damaged: its SHA-256 checksum does not match its "
                f"contents; restore it from a copy or train again with --overwrite"
            )
        source = io.BytesIO(payload)
    try:
        state = torch.load(source, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for truncated/corrupt files
        raise CheckpointError(f"checkpoint {path} is unreadable ({exc})") from exc
    if not (isinstance(state, dict) and {"step", "model", "config"} <= state.keys()):
        raise CheckpointError(f"{path} is not an hjepa training checkpoint")
    return state


def latest_checkpoint(directory: Path) -> Path | None:
    path = directory / LAST
    return path if path.is_file() else None
