"""Shard files: checking a shard's arrays, writing them as `.npy` files with their sizes and
CRC-32s (in any process), and checksumming files (layout in `hjepa.data.format`)."""

import io
import zlib
from pathlib import Path

import numpy as np

from hjepa.errors import ShapeError

CHUNK = 1 << 22


def shard_name(index: int) -> str:
    """Folder name of shard number `index`."""
    return f"shard_{index:05d}"


def check_shard_arrays(obs, actions, states, episode_starts, obs_shape=None, action_dim=None):
    """Raise ShapeError unless the four arrays form a valid shard; return them as numpy arrays."""
    obs, actions = np.asarray(obs), np.asarray(actions)
    states, starts = np.asarray(states), np.asarray(episode_starts)
    frames = obs.shape[0] if obs.ndim else 0
    if obs.dtype != np.uint8 or obs.ndim < 2 or frames == 0:
        raise ShapeError(f"obs: expected uint8 [F, ...] with F > 0, got {obs.dtype} {obs.shape}")
    if obs_shape is not None and tuple(obs.shape[1:]) != tuple(obs_shape):
        raise ShapeError(f"obs: expected frames of shape {tuple(obs_shape)}, got {obs.shape[1:]}")
    if actions.ndim != 2 or actions.shape[0] != frames:
        raise ShapeError(f"actions: expected [{frames}, A], got {actions.shape}")
    if action_dim is not None and actions.shape[1] != action_dim:
        raise ShapeError(f"actions: expected last dimension {action_dim}, got {actions.shape}")
    if states.ndim != 2 or states.shape[0] != frames:
        raise ShapeError(f"states: expected [{frames}, S], got {states.shape}")
    if starts.ndim != 1 or starts.size == 0 or starts.dtype.kind not in "iu":
        raise ShapeError(f"episode_starts: expected a non-empty integer vector, got {starts}")
    if starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= frames:
        raise ShapeError(f"episode_starts must start at 0, increase, and stay below {frames}")
    actions, states = actions.astype(np.float32, copy=False), states.astype(np.float32, copy=False)
    return obs, actions, states, starts


def write_shard_files(folder: Path, obs, actions, states, episode_starts) -> dict:
    """Write one shard's `.npy` files into `folder` (created); return its meta.json record.

    The record holds the episode and frame counts and, per file, the byte size and CRC-32. This is
    a plain function so worker processes can write shards in parallel; the writer then renames the
    folder into place with `TrajectoryWriter.commit_shard`.
    """
    obs, actions, states, starts = check_shard_arrays(obs, actions, states, episode_starts)
    arrays = {
        "obs": np.ascontiguousarray(obs),
        "actions": np.ascontiguousarray(actions),
        "states": np.ascontiguousarray(states),
        "episode_starts": np.ascontiguousarray(starts, dtype=np.int64),
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=False)
    files = {f"{name}.npy": _save_npy(folder / f"{name}.npy", arr) for name, arr in arrays.items()}
    return {"episodes": int(starts.size), "frames": int(obs.shape[0]), "files": files}


def _save_npy(path: Path, array: np.ndarray) -> dict:
    """Save `array` as a `.npy` file; return its byte size and CRC-32 (computed while writing)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    head = header.getvalue()
    body = memoryview(array.reshape(-1).view(np.uint8)) if array.size else b""
    with open(path, "wb") as f:
        f.write(head)
        f.write(body)
    crc = zlib.crc32(body, zlib.crc32(head))
    return {"bytes": len(head) + len(body), "crc32": f"{crc:08x}"}


def file_crc32(path: Path) -> str:
    """CRC-32 of a file, read in chunks, as 8 hex digits."""
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
    return f"{crc:08x}"
