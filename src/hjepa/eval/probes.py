"""Probes: how much of a known quantity (e.g. the agent's position) can be read off latents.

A probe is fitted on latents of training episodes and scored on held-out episodes. The linear
probe is ridge regression solved in closed form; the MLP probe is a small network trained with
Adam. Both predict standardized targets and map back to the targets' units. `GroupedProbe`
fits one probe per quantity: the position (the env's position columns, together) and every
further column on its own. The neighbour probe fits nothing: it answers the mean state of the
nearest training latents, so it reads what latent *distance* reflects (what a planner's
|s - g| sees), and a quantity a fitted probe finds hard to learn from few samples is not
mistaken for one the latents lack.
"""

import torch
from torch import nn

from hjepa.nets.mlp import MLP


class LinearProbe(nn.Module):
    def __init__(self, z: torch.Tensor, y: torch.Tensor, ridge: float = 1e-3):
        super().__init__()
        self.z_mean, self.z_std = z.mean(0), z.std(0) + 1e-6
        self.y_mean, self.y_std = y.mean(0), y.std(0) + 1e-6
        x = _with_bias((z - self.z_mean) / self.z_std)
        t = (y - self.y_mean) / self.y_std
        gram = x.T @ x + ridge * len(x) * torch.eye(x.shape[1])
        self.weight = torch.linalg.solve(gram, x.T @ t)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = _with_bias((z - self.z_mean) / self.z_std)
        return (x @ self.weight) * self.y_std + self.y_mean


class MLPProbe(nn.Module):
    def __init__(self, z, y, hidden: int = 256, steps: int = 3000, batch: int = 512, seed: int = 0):
        super().__init__()
        self.z_mean, self.z_std = z.mean(0), z.std(0) + 1e-6
        self.y_mean, self.y_std = y.mean(0), y.std(0) + 1e-6
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.net = MLP(z.shape[1], hidden, y.shape[1], depth=3)
        self._fit((z - self.z_mean) / self.z_std, (y - self.y_mean) / self.y_std, steps, batch, gen)

    def _fit(self, x, t, steps, batch, gen):
        opt = torch.optim.Adam(self.net.parameters(), lr=3e-3)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            idx = torch.randint(len(x), (min(batch, len(x)),), generator=gen)
            loss = nn.functional.mse_loss(self.net(x[idx]), t[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.net.requires_grad_(False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net((z - self.z_mean) / self.z_std) * self.y_std + self.y_mean


class NeighbourProbe(nn.Module):
    """The mean state of the `k` nearest training latents (Euclidean, standardized latents)."""

    def __init__(self, z: torch.Tensor, y: torch.Tensor, k: int = 5, chunk: int = 1024):
        super().__init__()
        self.z_mean, self.z_std = z.mean(0), z.std(0) + 1e-6
        self.z, self.y = (z - self.z_mean) / self.z_std, y
        self.k, self.chunk = min(k, len(z)), chunk

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = (z - self.z_mean) / self.z_std
        parts = []
        for rows in x.split(self.chunk):
            nearest = torch.cdist(rows, self.z).topk(self.k, largest=False).indices
            parts.append(self.y[nearest].mean(1))
        return torch.cat(parts)


class GroupedProbe(nn.Module):
    """One probe of kind `probe_cls` per quantity: the `position` columns together (if any),
    then every other column on its own."""

    def __init__(self, probe_cls, z, y, position: list[int] = (), **probe_kwargs):
        super().__init__()
        rest = [[c] for c in range(y.shape[1]) if c not in position]
        self.groups = [list(position), *rest] if position else rest
        self.probes = nn.ModuleList(
            probe_cls(z, y[:, cols], **probe_kwargs) for cols in self.groups
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Predictions [N, S], columns in the order of the state."""
        out = torch.empty(len(z), sum(map(len, self.groups)))
        for cols, probe in zip(self.groups, self.probes, strict=True):
            out[:, cols] = probe(z)
        return out


def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Root mean squared error per column, [S]."""
    return (pred - target).pow(2).mean(0).sqrt()


def position_rmse(pred: torch.Tensor, target: torch.Tensor, columns: list[int]) -> float:
    """Root mean squared Euclidean distance between predicted and true positions (`columns`)."""
    return float((pred[:, columns] - target[:, columns]).pow(2).sum(1).mean().sqrt())


def _with_bias(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(len(x), 1)], dim=1)
