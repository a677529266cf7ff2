"""Multi-layer perceptrons for vector inputs [B, D]."""

import torch
from torch import nn

from hjepa.errors import ConfigError, check_tensor
from hjepa.nets.transformer import init_weights

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}


def make_activation(name: str) -> nn.Module:
    """Activation module by name ('gelu', 'relu', 'silu', 'tanh')."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    """`depth` Linear layers; each hidden layer is Linear -> LayerNorm (if norm) -> activation.

    The last layer is a plain Linear (no norm, no activation). [..., in_dim] -> [..., out_dim].
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        out_dim: int,
        depth: int = 2,
        norm: bool = True,
        act: str = "gelu",
    ):
        super().__init__()
        if depth < 1:
            raise ConfigError(f"MLP depth must be >= 1, got {depth}")
        dims = [in_dim] + [hidden_dim] * (depth - 1) + [out_dim]
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(nn.Linear(d_in, d_out))
            if i < depth - 1:
                if norm:
                    layers.append(nn.LayerNorm(d_out))
                layers.append(make_activation(act))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPEncoder(nn.Module):
    """Encoder for flat observations: [B, in_dim] -> [B, embed_dim]."""

    def __init__(self, in_dim: int, embed_dim: int, hidden_dim: int = 256, depth: int = 3):
        super().__init__()
        self.in_dim = in_dim
        self.num_features = embed_dim
        self.mlp = MLP(in_dim, hidden_dim, embed_dim, depth=depth)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """[B, in_dim] -> [B, embed_dim]."""
        check_tensor("inputs", x, ndim=2, last_dim=self.in_dim)
        return self.mlp(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)
