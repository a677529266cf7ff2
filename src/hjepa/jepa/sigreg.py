"""SIGReg (LeJEPA, Balestriero & LeCun 2025): criteria (1) and (2), information in s_x and s_y.

Among distributions of a fixed scale, the isotropic Gaussian carries the most information and is
the target LeJEPA argues minimizes downstream risk. SIGReg pushes the embeddings toward N(0, I)
without estimating a D x D covariance: it draws M random unit directions u_m, projects the rows,
x_nm = <z_n, u_m>, and tests each 1-D projection against N(0, 1) with the Epps-Pulley statistic

    EP_m = N * integral over t of w(t) |phi_m(t) - exp(-t^2 / 2)|^2 dt,   w(t) = exp(-t^2 / 2),

where phi_m(t) = mean_n exp(i t x_nm) is the empirical characteristic function (cos + i sin). The
loss is the mean of EP_m over directions. A collapsed batch (all rows equal) or a low-rank one
(most directions see almost no spread) fails the test on most directions and gets a large value.

Choices, following LeJEPA:
- no standardization: projections are tested against N(0, 1) as they are, so the scale is fixed too;
- the integrand is even in t, so the integral over the real line is computed as twice the
  trapezoid rule on [0, t_max] with `num_knots` equally spaced knots (t_max=3, 17 knots);
- the statistic is scaled by N (the global number of rows), as a test statistic is. Under the
  null (i.i.d. N(0, 1) projections) E|phi(t) - exp(-t^2/2)|^2 = (1 - exp(-t^2)) / N, so the loss
  of Gaussian embeddings is about integral exp(-t^2/2)(1 - exp(-t^2)) dt ~ 1.06 whatever N is,
  while any fixed departure from N(0, I) grows linearly with N. The weight of SIGReg in the total
  loss therefore depends on the batch size.
"""

import torch
import torch.nn as nn

from hjepa.errors import ConfigError, ShapeError
from hjepa.jepa.vicreg import gather_rows

# Elements of one [rows, directions, knots] chunk. Small chunks stay in the CPU cache (about 2x
# faster than one big tensor); on accelerators big chunks amortize kernel launches.
_CHUNK_ELEMENTS = {"cpu": 1 << 19}
_DEFAULT_CHUNK_ELEMENTS = 1 << 25


class SIGReg(nn.Module):
    """Sketched isotropic Gaussian regularizer on embeddings z of shape [..., D].

    Rows ([..., D] flattened, gathered over DDP ranks with gradient) are projected on
    `num_directions` random unit directions, redrawn at every call from a generator seeded by
    (`seed`, `step`). `step` is a registered buffer (so it is saved in checkpoints and resume draws
    the same directions) that counts training-mode calls; every DDP rank holds the same step and
    so draws the same directions. Directions are drawn on z's device, so CPU and CUDA runs draw
    different (equally valid) directions.
    metrics: "sigreg" (the loss) and "sigreg_max" (the worst direction's statistic).
    """

    def __init__(
        self, num_directions: int = 256, num_knots: int = 17, t_max: float = 3.0, seed: int = 0
    ):
        super().__init__()
        if num_directions < 1 or num_knots < 2 or t_max <= 0:
            raise ConfigError(
                "sigreg: num_directions must be >= 1, num_knots >= 2 and t_max > 0; got "
                f"num_directions={num_directions}, num_knots={num_knots}, t_max={t_max}"
            )
        self.num_directions = num_directions
        self.num_knots = num_knots
        self.t_max = t_max
        self.seed = seed
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        # Host copy of `step`: reading the buffer would synchronize with the GPU at every call.
        self._host_step = 0

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        with torch.autocast(device_type=z.device.type, enabled=False):
            rows = gather_rows(z)
            directions = self._draw_directions(rows.shape[1], rows.device, rows.dtype)
            statistics = epps_pulley(rows @ directions, self.num_knots, self.t_max)
            loss = statistics.mean()
        return loss, {"sigreg": loss.detach(), "sigreg_max": statistics.detach().max()}

    def directions(
        self, dim: int, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """The [dim, num_directions] unit directions the next call will use (a pure function of
        `seed`, the current step and the device)."""
        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed * 1_000_003 + self._host_step)
        gaussian = torch.randn(
            dim, self.num_directions, generator=generator, device=device, dtype=dtype
        )
        return gaussian / gaussian.norm(dim=0, keepdim=True)

    @torch.compiler.disable
    def _draw_directions(self, dim: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """This call's directions; advances the step in training mode. Kept out of torch.compile
        graphs: the changing host step would otherwise force a recompilation at every call."""
        directions = self.directions(dim, device, dtype)
        if self.training:
            self.set_step(self._host_step + 1)
        return directions

    def set_step(self, step: int) -> None:
        """Set the direction counter (buffer and host copy together)."""
        self._host_step = int(step)
        self.step.fill_(self._host_step)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._host_step = int(self.step)

    def extra_repr(self) -> str:
        return (
            f"num_directions={self.num_directions}, num_knots={self.num_knots}, "
            f"t_max={self.t_max}, seed={self.seed}"
        )


def epps_pulley(projections: torch.Tensor, num_knots: int = 17, t_max: float = 3.0) -> torch.Tensor:
    """Epps-Pulley statistic of each column of `projections` [N, M] against N(0, 1); returns [M].

    EP_m = N * sum_k w_k |phi_m(t_k) - exp(-t_k^2/2)|^2 with t_k = linspace(0, t_max, num_knots)
    and w_k = exp(-t_k^2/2) times the trapezoid weights on [0, t_max], doubled for [-t_max, t_max].
    """
    if projections.ndim != 2 or projections.shape[0] < 1:
        raise ShapeError(f"projections must be [N, M], got shape {tuple(projections.shape)}")
    knots = torch.linspace(
        0.0, t_max, num_knots, device=projections.device, dtype=projections.dtype
    )
    weights = _trapezoid_weights(knots) * torch.exp(-0.5 * knots.square())
    # At t = 0 both characteristic functions are exactly 1: skip that knot.
    knots, weights = knots[1:], weights[1:]
    mean_cos, mean_sin = _EmpiricalCF.apply(projections, knots)
    squared_error = (mean_cos - torch.exp(-0.5 * knots.square())).square() + mean_sin.square()
    return projections.shape[0] * (squared_error @ weights)


def _trapezoid_weights(knots: torch.Tensor) -> torch.Tensor:
    """Trapezoid weights on equally spaced knots, doubled: the integrand is even in t."""
    step = knots[1] - knots[0]
    weights = torch.full_like(knots, 2.0) * step
    weights[0] = weights[-1] = step
    return weights


class _EmpiricalCF(torch.autograd.Function):
    """(mean_n cos(t x_nm), mean_n sin(t x_nm)) as two [M, T] tensors, from x [N, M] and t [T].

    The [N, M, T] phases are processed in row chunks and recomputed in the backward pass instead of
    being stored, so memory stays at one chunk whatever N is (not twice-differentiable).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, knots: torch.Tensor):
        ctx.save_for_backward(x, knots)
        sum_cos = x.new_zeros(x.shape[1], knots.shape[0])
        sum_sin = torch.zeros_like(sum_cos)
        for chunk in x.split(_chunk_rows(x, knots)):
            phase = chunk.unsqueeze(-1) * knots
            sum_cos += phase.cos().sum(dim=0)
            sum_sin += phase.sin().sum(dim=0)
        return sum_cos / x.shape[0], sum_sin / x.shape[0]

    @staticmethod
    def backward(ctx, grad_cos: torch.Tensor, grad_sin: torch.Tensor):
        # d mean_cos[m, k] / d x_nm = -t_k sin(t_k x_nm) / N;  d mean_sin / d x = t_k cos / N.
        x, knots = ctx.saved_tensors
        scale_cos = grad_cos * knots / x.shape[0]
        scale_sin = grad_sin * knots / x.shape[0]
        grads = []
        for chunk in x.split(_chunk_rows(x, knots)):
            phase = chunk.unsqueeze(-1) * knots
            grads.append((phase.cos() * scale_sin - phase.sin() * scale_cos).sum(dim=-1))
        return torch.cat(grads), None


def _chunk_rows(x: torch.Tensor, knots: torch.Tensor) -> int:
    budget = _CHUNK_ELEMENTS.get(x.device.type, _DEFAULT_CHUNK_ELEMENTS)
    return max(1, budget // (x.shape[1] * knots.shape[0]))
