"""Trained parts of the agent (critic, Mode-1 policy) cached in `<run>/agent/<name>.pt`, beside
the settings they were trained with: a change of those settings means training again."""

from pathlib import Path

import torch

from hjepa.errors import CheckpointError
from hjepa.io import atomic_write


class AgentCache:
    def __init__(self, run_dir: str | Path):
        self.folder = Path(run_dir) / "agent"

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.pt"

    def load(self, name: str, module: torch.nn.Module, settings: dict) -> bool:
        """Load the cached `name` into `module` if it was trained with `settings`; False when
        there is none or it was trained otherwise (other settings, or for latents of another size).
        A file that cannot be read: CheckpointError."""
        path = self.path(name)
        if not path.is_file():
            return False
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise CheckpointError(
                f"cannot read the cached {name} {path} (delete it to train it again): {err}"
            ) from None
        if not isinstance(saved, dict) or saved.get("settings") != settings:
            return False
        try:
            module.load_state_dict(saved["state_dict"])
        except (KeyError, RuntimeError):  # same settings, another world model's latent size
            return False
        return True

    def save(self, name: str, module: torch.nn.Module, settings: dict) -> None:
        saved = {"settings": settings, "state_dict": module.state_dict()}
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path(name), lambda tmp: torch.save(saved, tmp))
