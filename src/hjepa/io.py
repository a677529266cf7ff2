"""Files written atomically: a kill mid-write never leaves a half-written file under its name.

Every writer goes to a temporary file in the target's folder, is flushed and fsynced, then
renamed over the target (rename is atomic on POSIX and Windows). Used by the trajectory store,
checkpoints, exported weights, the metrics log, the agent's cache, configs, results and plots.
`fresh_results_folder` moves earlier results aside before a command writes new ones.
"""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from hjepa.errors import ConfigError


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call `write(tmp_path)` on a temporary file next to `path`, fsync it, rename it to `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def write_json_atomic(path: str | os.PathLike, data, indent: int = 2) -> Path:
    """`data` as JSON (objects it cannot encode as their str), newline-terminated."""
    return write_text_atomic(path, json.dumps(data, indent=indent, default=str) + "\n")


def fresh_results_folder(folder: str | os.PathLike) -> Path:
    """An empty results `folder`, created; earlier results in it are moved aside to
    `<folder>.<n>` (the first free n >= 1, said on stdout), never overwritten."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a results folder: choose another place")
    if folder.is_dir() and any(folder.iterdir()):
        n = 1
        while folder.with_name(f"{folder.name}.{n}").exists():
            n += 1
        kept = folder.rename(folder.with_name(f"{folder.name}.{n}"))
        print(f"earlier results of {folder} kept in {kept}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_eval_results(folder: str | os.PathLike, result: dict, report: str) -> Path:
    """`result` as eval.json and `report` as report.md in a fresh results `folder`."""
    out = fresh_results_folder(folder)
    write_json_atomic(out / "eval.json", result)
    write_text_atomic(out / "report.md", report)
    return out
