"""Macro-actions: a low-dimensional latent for the variable-length chunk of primitive actions
between two states of a higher level.

    z ~ q(z | a_t .. a_t+d-1) = N(mu, diag sigma²),  penalty KL(q ‖ N(0, I))   criterion (4)

Each action of the chunk is embedded with its relative time t / max_len; padding (positions at or
past the chunk's length) is masked out of a mean and a max pool, the chunk length is appended, and
an MLP gives mu and log sigma². In training z is sampled, in eval mode it is mu. The encoder keeps
the per-dimension range of mu seen in training (`low`, `high`): planners search macro-actions in
the unit box and `from_unit` maps it onto that range, so a plan never asks for a macro-action the
level never saw. The range follows the training batches' 1st and 99th percentiles of mu, as an
exponential moving average (momentum `RANGE_MOMENTUM`), so it describes the trained encoder and
not its first steps.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError
from hjepa.jepa.latent import gaussian_kl
from hjepa.nets.mlp import MLP

_LOGVAR_LIMIT = 10.0
RANGE_MOMENTUM = 0.99
INITIAL_LOGVAR = -4.0


class MacroActionEncoder(nn.Module):
    def __init__(self, action_dim: int, macro_dim: int, max_len: int, hidden: int = 128):
        super().__init__()
        if int(macro_dim) < 1:
            raise ConfigError(f"a macro-action needs >= 1 dims, got macro_dim={macro_dim}")
        if int(max_len) < 1:
            raise ConfigError(f"macro-action chunks need max_len >= 1, got {max_len}")
        self.action_dim, self.macro_dim, self.max_len = action_dim, int(macro_dim), int(max_len)
        width = max(hidden // 2, 8)  # per action of the chunk: kept small, chunks are long
        self.step_embed = MLP(action_dim + 1, width, width, depth=2)
        self.head = MLP(2 * width + 1, hidden, 2 * self.macro_dim, depth=2)
        # sigma starts at exp(INITIAL_LOGVAR / 2): a noise that does not drown the chunk's
        # information before the predictor learns to read z (else it learns to ignore z and the
        # KL pulls q onto the prior: posterior collapse)
        nn.init.constant_(self.head.net[-1].bias[self.macro_dim :], INITIAL_LOGVAR)
        self.register_buffer("low", torch.full((self.macro_dim,), float("inf")))
        self.register_buffer("high", torch.full((self.macro_dim,), float("-inf")))

    def forward(self, chunks: torch.Tensor, lengths: torch.Tensor):
        """Chunks [N, L, A] (zero-padded past `lengths` [N]) -> (z [N, m], KL [N], mu [N, m])."""
        mu, logvar = self.posterior(chunks, lengths)
        if self.training:
            self._track_range(mu)
            z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        else:
            z = mu
        return z, gaussian_kl(mu, logvar), mu

    def posterior(self, chunks: torch.Tensor, lengths: torch.Tensor):
        """(mu, logvar) [N, m] of the chunks [N, L, A] with valid lengths [N]."""
        self._check(chunks, lengths)
        n, length, _ = chunks.shape
        steps = torch.arange(length, device=chunks.device)
        valid = steps[None, :] < lengths[:, None]  # [N, L]
        when = (steps.float() / self.max_len).expand(n, length)[..., None]
        h = self.step_embed(torch.cat([chunks, when], dim=-1))
        mask = valid[..., None].to(h.dtype)
        mean = (h * mask).sum(1) / lengths[:, None].to(h.dtype)
        peak = h.masked_fill(~valid[..., None], float("-inf")).amax(1)
        size = (lengths.to(h.dtype) / self.max_len)[:, None]
        mu, logvar = self.head(torch.cat([mean, peak, size], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-_LOGVAR_LIMIT, _LOGVAR_LIMIT)

    @property
    def seen(self) -> bool:
        """Whether a training batch has set the range yet."""
        return bool(torch.isfinite(self.low).all())

    def from_unit(self, u: torch.Tensor) -> torch.Tensor:
        """Macro-actions from the unit box [-1, 1]^m (clipped) onto the range seen in training."""
        if not self.seen:
            raise ConfigError("this macro-action encoder was never trained: no range to plan in")
        centre, half = (self.high + self.low) / 2, (self.high - self.low) / 2
        return centre + half * u.clamp(-1.0, 1.0)

    @torch.no_grad()
    def _track_range(self, mu: torch.Tensor) -> None:
        q = torch.tensor([0.01, 0.99], device=mu.device, dtype=mu.dtype)
        low, high = torch.quantile(mu.detach(), q, dim=0)
        if not self.seen:  # the first batch sets the range
            self.low.copy_(low)
            self.high.copy_(high)
        self.low.lerp_(low, 1 - RANGE_MOMENTUM)
        self.high.lerp_(high, 1 - RANGE_MOMENTUM)

    def _check(self, chunks: torch.Tensor, lengths: torch.Tensor) -> None:
        if chunks.ndim != 3 or chunks.shape[-1] != self.action_dim:
            expected = f"[N, L, {self.action_dim}]"
            raise ShapeError(f"macro-action chunks: expected {expected}, got {tuple(chunks.shape)}")
        if lengths.shape != chunks.shape[:1]:
            raise ShapeError(
                f"chunk lengths: expected [{chunks.shape[0]}], got {tuple(lengths.shape)}"
            )
        if len(lengths) and (lengths.min() < 1 or lengths.max() > chunks.shape[1]):
            raise ShapeError(
                f"chunk lengths must lie in [1, {chunks.shape[1]}], got "
                f"{int(lengths.min())}..{int(lengths.max())}"
            )
