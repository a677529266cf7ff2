"""Action-conditioned predictors: pred(s_t, a_t) -> s_{t+1} in latent space.

Layouts: states [B, T, D], actions [B, T, A] (already embedded). Every predictor offers
- `forward(states, actions) -> [B, T, D]`: teacher-forced; output t predicts s_{t+1} from the
  observed s_0..s_t and a_0..a_t;
- `rollout(s0 [B, D], actions [B, H, A]) -> [B, H, D]`: open loop, feeding its own predictions
  back in; this is the simulator a planner optimizes actions through.
"""

import abc
import math

import torch
from torch import nn

from hjepa.errors import ConfigError
from hjepa.nets.convnet import conv_stage
from hjepa.nets.mlp import MLP
from hjepa.nets.transformer import init_weights, sincos_pos_embed_1d


class MarkovPredictor(nn.Module, abc.ABC):
    """A predictor whose next state depends only on the current state and action."""

    @abc.abstractmethod
    def step(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """[B, D], [B, A] -> [B, D]."""

    def forward(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        b, t, d = states.shape
        out = self.step(states.reshape(b * t, d), actions.reshape(b * t, -1))
        return out.reshape(b, t, d)

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        states, s = [], s0
        for a in actions.unbind(dim=1):
            s = self.step(s, a)
            states.append(s)
        return torch.stack(states, dim=1)


class ResidualMLPPredictor(MarkovPredictor):
    """s' = s + MLP([s, a]): the change of state, which is small and easy to fit."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.net = MLP(state_dim + action_dim, hidden, state_dim, depth=depth)
        nn.init.zeros_(self.net.net[-1].weight)
        nn.init.zeros_(self.net.net[-1].bias)

    def step(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return s + self.net(torch.cat([s, a], dim=-1))


class ConvPredictor(MarkovPredictor):
    """States that are feature maps [C, h, w] (flattened; the encoder's `feature_shape`):
    s' = s + CNN([s, a, x, y]), the action and the cell's coordinates broadcast to every cell.

    The middle layers are dilated (2, 4, ...) so a cell sees most of the map in a few layers: a
    pusher several cells away can still reach it within one step. The last layer starts at zero,
    so the untrained predictor says "nothing moves".
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        hidden: int = 64,
        depth: int = 4,
        feature_shape: tuple[int, int, int] | None = None,
    ):
        super().__init__()
        if feature_shape is None or math.prod(feature_shape) != state_dim:
            raise ConfigError(
                "world.predictor=conv steps feature-map states: set world.map_channels > 0 "
                "(the cnn encoder then keeps its map)"
            )
        if depth < 2:
            raise ConfigError(f"world.depth={depth}: the conv predictor needs at least 2 layers")
        self.feature_shape = feature_shape
        channels, h, w = feature_shape
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        self.register_buffer("coords", torch.stack([xs, ys]), persistent=False)
        dilations = [1] + [2**i for i in range(1, depth - 1)]
        widths = [channels + action_dim + 2] + [hidden] * (depth - 1)
        self.body = nn.Sequential(
            *(
                conv_stage(a, b, 1, dilation=d)
                for a, b, d in zip(widths[:-1], widths[1:], dilations, strict=True)
            )
        )
        self.out = nn.Conv2d(hidden, channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def step(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        maps = s.reshape(-1, *self.feature_shape)
        h, w = self.feature_shape[1:]
        cells = [
            maps,
            a[:, :, None, None].expand(-1, -1, h, w),
            self.coords.expand(len(s), -1, -1, -1),
        ]
        return s + self.out(self.body(torch.cat(cells, dim=1))).flatten(1)


class GRUPredictor(MarkovPredictor):
    """The state is the GRU's hidden vector and the action its input (PLDM's predictor)."""

    def __init__(self, state_dim: int, action_dim: int, **unused_sizes):
        super().__init__()
        self.cell = nn.GRUCell(action_dim, state_dim)

    def step(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.cell(a, s)


class TransformerPredictor(nn.Module):
    """One token per frame, causal attention over frames, actions injected by adaptive LayerNorm.

    Token t = s_t + position t; in every block the action a_t sets a per-token scale, shift and
    gate of the normalized features (adaLN, as in DiT), so output t sees s_0..s_t, a_0..a_t and
    predicts s_{t+1} as s_t plus a correction.
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        hidden: int = 128,
        depth: int = 2,
        heads: int = 4,
        max_len: int = 64,
    ):
        super().__init__()
        self.inp = nn.Linear(state_dim, hidden)
        self.register_buffer("pos", sincos_pos_embed_1d(max_len, hidden), persistent=False)
        self.blocks = nn.ModuleList(AdaLNBlock(hidden, heads, action_dim) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, state_dim))
        self.apply(init_weights)
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)
        self.max_len = max_len

    def forward(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        t = states.shape[1]
        if t > self.max_len:
            raise ConfigError(f"sequence of {t} frames is longer than max_len={self.max_len}")
        x = self.inp(states) + self.pos[:t]
        for block in self.blocks:
            x = block(x, actions)
        return states + self.out(x)

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        states = s0.unsqueeze(1)
        for h in range(actions.shape[1]):
            nxt = self.forward(states, actions[:, : h + 1])[:, -1:]
            states = torch.cat([states, nxt], dim=1)
        return states[:, 1:]


class AdaLNBlock(nn.Module):
    def __init__(self, dim: int, heads: int, cond_dim: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.modulation = nn.Linear(cond_dim, 6 * dim)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(cond).chunk(6, dim=-1)
        h = self.norm1(x) * (1 + scale1) + shift1
        x = x + (1 + gate1) * self._attend(h)
        h = self.norm2(x) * (1 + scale2) + shift2
        return x + (1 + gate2) * self.mlp(h)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


PREDICTORS = {
    "mlp": ResidualMLPPredictor,
    "gru": GRUPredictor,
    "transformer": TransformerPredictor,
    "conv": ConvPredictor,
}


def build_predictor(
    kind: str, state_dim: int, action_dim: int, hidden: int, depth: int, feature_shape=None
):
    """The predictor `kind`; `feature_shape` (C, h, w) of map states is for the conv one."""
    if kind not in PREDICTORS:
        raise ConfigError(f"world.predictor: unknown kind {kind!r} (known: {tuple(PREDICTORS)})")
    extra = {"feature_shape": feature_shape} if kind == "conv" else {}
    return PREDICTORS[kind](state_dim, action_dim, hidden=hidden, depth=depth, **extra)
