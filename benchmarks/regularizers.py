"""Cost of the anti-collapse regularizers (criteria 1 and 2): SIGReg vs VICReg.

Forward + backward on embeddings of N * T = 512 rows (8 clips x 64 tokens), D = 192, median over
repeats. SIGReg is timed for 16, 64, 256 and 1024 directions; "sigreg-naive" is the plain-autograd
Epps-Pulley (one [N, M, T] cos/sin tensor kept for backward) as a baseline for the chunked,
recomputing implementation in hjepa.jepa.sigreg.

Run: python benchmarks/regularizers.py
"""

import torch

from common import median_time, save
from hjepa.jepa.sigreg import SIGReg
from hjepa.jepa.vicreg import VICReg

SHAPE = (8, 64, 192)
DIRECTIONS = (16, 64, 256, 1024)
# Published reference timings (ms) for the same input size, for comparison only.
PUBLISHED_MS = {("vicreg", 0): 5.0, ("sigreg", 64): 11.0, ("sigreg", 256): 63.0}
PUBLISHED_MS[("sigreg", 1024)] = 380.0


def naive_sigreg(z: torch.Tensor, directions: torch.Tensor, num_knots=17, t_max=3.0):
    """Plain autograd version of the same statistic (baseline only)."""
    rows = z.reshape(-1, z.shape[-1])
    knots = torch.linspace(0.0, t_max, num_knots)
    gaussian_cf = torch.exp(-0.5 * knots.square())
    phase = (rows @ directions).unsqueeze(-1) * knots
    error = (phase.cos().mean(0) - gaussian_cf).square() + phase.sin().mean(0).square()
    weights = torch.full_like(knots, 2 * t_max / (num_knots - 1))
    weights[0] = weights[-1] = t_max / (num_knots - 1)
    return rows.shape[0] * (error @ (weights * gaussian_cf)).mean()


def time_ms(loss_fn, z: torch.Tensor, repeats: int) -> float:
    def step():
        z.grad = None
        loss_fn(z).backward()

    return 1e3 * median_time(step, repeats=repeats, warmup=2)


def main() -> None:
    torch.manual_seed(0)
    z = torch.randn(*SHAPE, requires_grad=True)
    cases = [("vicreg", 0, lambda x: VICReg()(x)[0])]
    for num in DIRECTIONS:
        sigreg = SIGReg(num_directions=num)
        directions = sigreg.directions(SHAPE[-1])
        cases.append(("sigreg", num, lambda x, s=sigreg: s(x)[0]))
        cases.append(("sigreg-naive", num, lambda x, u=directions: naive_sigreg(x, u)))
    rows = []
    for name, num, loss_fn in cases:
        ms = time_ms(loss_fn, z, repeats=15 if num <= 256 else 7)
        rows.append({"regularizer": name, "directions": num or "-", "fwd+bwd ms": ms})
    vicreg_ms = rows[0]["fwd+bwd ms"]
    for row, (name, num, _) in zip(rows, cases, strict=True):
        row["x vicreg"] = row["fwd+bwd ms"] / vicreg_ms
        row["published ms"] = PUBLISHED_MS.get((name, num), "")
    notes = (
        f"Input {SHAPE} -> {SHAPE[0] * SHAPE[1]} rows x {SHAPE[2]} dims, float32, 17 knots. "
        "Median of 15 runs (7 for 1024 directions) after 2 warm-ups. The machine's 2 CPU cores "
        "are shared with other jobs, so timings are noisy. 'published ms' are reference numbers "
        "from another machine, for scale only."
    )
    save("regularizers", rows, notes)


if __name__ == "__main__":
    main()
