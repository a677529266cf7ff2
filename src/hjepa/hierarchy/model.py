"""H-JEPA: JEPA levels stacked on an action-conditioned world model.

    level 1   s = Enc1(o),   s' = Pred1(s, a)             the world model (frozen here)
    level 2   h = Enc2(s),   h_t+d = Pred2(h_t, z)        z: macro-action of a_t .. a_t+d-1
    level 3   g = Enc3(h),   g_t+d' = Pred3(g_t, z')      longer gaps d', coarser states
    ...

Each level above 1 reads the states of the level below (under no gradient: every level learns
from its own loss) and predicts further ahead. Batches come from `hierarchy/data.py`; the loss is
the sum of the levels' losses, each logged under `level<k>/`.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError
from hjepa.hierarchy.level import Level
from hjepa.jepa.model import SelfSupervisedModel


class HierarchicalWorldModel(SelfSupervisedModel):
    input_key = "obs"

    def __init__(self, base: nn.Module, levels: list[dict]):
        super().__init__()
        if not levels:
            raise ConfigError("a hierarchy needs at least one level above the world model")
        self.base = base.eval().requires_grad_(False)
        self.encoder, self.action_dim = base.encoder, base.action_dim
        dims, stack = [base.encoder.num_features], []
        for spec in levels:
            stack.append(Level(dims[-1], base.action_dim, **spec))
            dims.append(stack[-1].dim)
        self.levels = nn.ModuleList(stack)

    @property
    def depth(self) -> int:
        """Number of levels, the world model included."""
        return len(self.levels) + 1

    def train(self, mode: bool = True):
        super().train(mode)
        self.base.eval()  # level 1 is frozen: no dropout / norm statistics updates
        return self

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """Frames [..., C, H, W] -> level-1 states [..., D] (the world model's)."""
        return self.base.encode(obs)

    def lift(self, states: torch.Tensor, source: int, target: int) -> torch.Tensor:
        """States of level `source` [..., D_source] encoded up to level `target` >= source."""
        self._check_level(source)
        self._check_level(target)
        if target < source:
            raise ConfigError(f"cannot lift level-{source} states down to level {target}")
        for level in self.levels[source - 1 : target - 1]:
            states = level.encode(states)
        return states

    def level(self, k: int) -> Level:
        """Level k >= 2."""
        if k < 2:
            raise ConfigError("level 1 is the world model (`base`), not a `Level`")
        self._check_level(k)
        return self.levels[k - 2]

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        loss, metrics = 0.0, {}
        for k in range(2, self.depth + 1):
            lower, chunks, lengths = self._level_inputs(batch, k)
            with torch.no_grad():
                lower = self.lift(lower, 1, k - 1)
            level_loss, level_metrics = self.level(k)(lower, chunks, lengths)
            loss = loss + level_loss
            metrics[f"level{k}/loss"] = level_loss.detach()
            metrics.update({f"level{k}/{name}": v for name, v in level_metrics.items()})
        return loss, metrics

    @torch.no_grad()
    def representations(self, batch: dict) -> dict:
        """Each level's states of the batch's first sequence states, for the collapse monitor."""
        first = self._level_inputs(batch, 2)[0][:, 0]
        return {f"level{k}": self.lift(first, 1, k) for k in range(2, self.depth + 1)}

    def _level_inputs(self, batch: dict, k: int):
        keys = [f"level{k}_{part}" for part in ("states", "chunks", "lengths")]
        missing = [key for key in keys if key not in batch]
        if missing:
            raise ShapeError(f"hierarchy batch lacks {missing} (has {sorted(batch)})")
        return [batch[key] for key in keys]

    def _check_level(self, k: int) -> None:
        if not 1 <= k <= self.depth:
            raise ConfigError(
                f"level {k} does not exist: this hierarchy has levels 1..{self.depth}"
            )
