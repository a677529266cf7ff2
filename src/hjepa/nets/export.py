"""Export a registered model as a directory (weights + config) and load it back.

Layout of an export directory:
    model.safetensors   the state_dict (contiguous CPU tensors)
    config.json         {"name": registry name, "kwargs": builder kwargs, "hjepa_version": ...,
                         "weights_sha256": the SHA-256 of model.safetensors}
Each file is written to a temporary file in the same directory and then renamed into place, so a
crash never leaves a half-written file under the final name. Loading checks the weights against
the checksum (exports written before it had none and load unchecked), so damaged weights, or
weights and config from two different exports, are refused.
"""

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

import hjepa
from hjepa.errors import CheckpointError, ConfigError
from hjepa.io import atomic_write
from hjepa.nets import registry

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def export_model(module: nn.Module, name: str, kwargs: dict, path_dir: str | os.PathLike) -> Path:
    """Write `module`'s weights and its registry (name, kwargs) to `path_dir`; return the dir.

    Raises ConfigError if `name`/`kwargs` do not fit the registry or kwargs are not JSON-able.
    """
    registry.check_kwargs(name, kwargs)
    config = {"name": name, "kwargs": kwargs, "hjepa_version": hjepa.__version__}
    try:
        json.dumps(config)
    except TypeError as exc:
        raise ConfigError(f"export kwargs of {name!r} are not JSON-serializable: {exc}") from exc
    out = Path(path_dir)
    out.mkdir(parents=True, exist_ok=True)
    # clone() so tensors sharing storage (tied weights) do not trip safetensors' check.
    state = {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}
    atomic_write(out / WEIGHTS_FILE, lambda p: save_file(state, p, metadata={"format": "pt"}))
    config["weights_sha256"] = _sha256(out / WEIGHTS_FILE)
    config_text = json.dumps(config, indent=2, sort_keys=True)
    atomic_write(out / CONFIG_FILE, lambda p: Path(p).write_text(config_text + "\n"))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_config(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; not an hjepa export directory?")
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: unreadable or corrupt JSON ({exc})") from exc
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise CheckpointError(f"{path}: needs a string 'name' and a 'kwargs' object")
    if not isinstance(config.get("kwargs", {}), dict):
        raise CheckpointError(f"{path}: 'kwargs' must be an object")
    return config


def _read_weights(path: Path, checksum: str | None) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing weights file")
    if checksum is not None and _sha256(path) != checksum:
        raise CheckpointError(
            f"{path}: damaged, or not the weights its {CONFIG_FILE} was written with (SHA-256 "
            f"checksum mismatch); export the run again"
        )
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt headers/data
        raise CheckpointError(f"{path}: truncated or corrupt safetensors file ({exc})") from exc


def _check_state(model: nn.Module, state: dict[str, torch.Tensor], where: Path) -> None:
    """CheckpointError describing missing/unexpected keys and shape mismatches, if any."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
    if wrong:
        problems.append(f"shape mismatches {wrong[:5]}{' ...' if len(wrong) > 5 else ''}")
    if problems:
        raise CheckpointError(f"{where}: weights do not match the config: {'; '.join(problems)}")


def load_model(path_dir: str | os.PathLike) -> nn.Module:
    """Rebuild the model described by `path_dir/config.json` and load its weights (strict).

    Returns the model in eval mode on CPU. Raises CheckpointError if a file is missing, corrupt,
    names an unknown model, or the weights' keys/shapes do not match.
    """
    root = Path(path_dir)
    config = _read_config(root / CONFIG_FILE)
    try:
        model = registry.build(config["name"], **config.get("kwargs", {}))
    except ConfigError as exc:
        raise CheckpointError(f"{root / CONFIG_FILE}: cannot rebuild the model: {exc}") from exc
    state = _read_weights(root / WEIGHTS_FILE, config.get("weights_sha256"))
    _check_state(model, state, root / WEIGHTS_FILE)
    model.load_state_dict(state, strict=True)
    return model.eval()
