import math

import numpy as np
import pytest
import torch

from hjepa.errors import ConfigError, ShapeError
from hjepa.jepa.regularizers import REGULARIZERS, build_regularizer
from hjepa.jepa.sigreg import SIGReg, epps_pulley
from hjepa.jepa.vicreg import VICReg


def _numpy_vicreg(z, var_weight, cov_weight, gamma, eps):
    rows = z.reshape(-1, z.shape[-1]).astype(np.float64)
    n, d = rows.shape
    centered = rows - rows.mean(axis=0)
    cov = centered.T @ centered / (n - 1)
    std = np.sqrt(np.diag(cov) + eps)
    var_term = np.maximum(gamma - std, 0.0).mean()
    cov_term = (cov**2).sum() - (np.diag(cov) ** 2).sum()
    cov_term /= d
    return var_weight * var_term + cov_weight * cov_term, var_term, cov_term


def _numpy_epps_pulley(x, num_knots, t_max):
    """Integral over the symmetric grid [-t_max, t_max] with the trapezoid rule, complex ECF."""
    t = np.linspace(-t_max, t_max, 2 * num_knots - 1)
    ecf = np.exp(1j * x[:, :, None] * t).mean(axis=0)  # [M, T]
    integrand = np.exp(-(t**2) / 2) * np.abs(ecf - np.exp(-(t**2) / 2)) ** 2
    return x.shape[0] * np.trapezoid(integrand, t, axis=-1)


def test_vicreg_matches_numpy():
    rng = np.random.default_rng(0)
    # Features with std below and above gamma, and correlated features.
    z = rng.normal(size=(4, 16, 12)) * np.linspace(0.2, 2.0, 12)
    z[..., 1] += z[..., 0]
    module = VICReg(var_weight=1.5, cov_weight=0.3, gamma=1.0, eps=1e-4)
    loss, metrics = module(torch.tensor(z, dtype=torch.float32))
    expected, var_term, cov_term = _numpy_vicreg(z, 1.5, 0.3, 1.0, 1e-4)
    assert var_term > 0.05 and cov_term > 0.05
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert float(metrics["vicreg_var"]) == pytest.approx(var_term, rel=1e-5)
    assert float(metrics["vicreg_cov"]) == pytest.approx(cov_term, rel=1e-5)


def test_vicreg_gradient_pushes_small_std_up():
    z = (torch.randn(64, 8) * 0.1).requires_grad_()
    loss, _ = VICReg(cov_weight=0.0)(z)
    loss.backward()
    with torch.no_grad():
        stepped = z - 1.0 * z.grad
    assert float(stepped.std(0).mean()) > float(z.detach().std(0).mean())


def test_vicreg_needs_two_rows():
    with pytest.raises(ShapeError):
        VICReg()(torch.zeros(1, 8))


def _gaussian(n=1024, d=64, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_sigreg_small_for_standard_gaussian():
    # Under the null the loss is about 1.05 for any N (see the module docstring).
    values = [float(SIGReg()(_gaussian(seed=s))[0]) for s in range(3)]
    assert all(0.7 < v < 1.5 for v in values), values


def test_sigreg_large_for_collapsed_and_low_rank():
    gaussian = float(SIGReg()(_gaussian())[0])
    collapsed = _gaussian(1, 64).expand(1024, 64)
    # Rank 2 with the same total variance as N(0, I_64): most directions see almost no spread.
    basis, _ = torch.linalg.qr(_gaussian(64, 2, seed=1))
    rank2 = _gaussian(1024, 2, seed=2) @ basis.T * math.sqrt(32)
    assert float(rank2.var(0).sum()) == pytest.approx(64, rel=0.15)
    for name, z in (("collapsed", collapsed), ("rank2", rank2)):
        value = float(SIGReg()(z)[0])
        assert value > 10 * gaussian, (name, value, gaussian)


def test_sigreg_penalizes_wrong_scale():
    gaussian = float(SIGReg()(_gaussian())[0])
    assert float(SIGReg()(2.0 * _gaussian())[0]) > 10 * gaussian


@pytest.mark.parametrize("num_knots,t_max", [(17, 3.0), (5, 2.0)])
def test_epps_pulley_matches_numpy(num_knots, t_max):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(size=(300, 3)), rng.exponential(size=(300, 2))], axis=1)
    ours = epps_pulley(torch.tensor(x), num_knots, t_max).numpy()
    np.testing.assert_allclose(ours, _numpy_epps_pulley(x, num_knots, t_max), rtol=1e-10)


def test_epps_pulley_gradient_matches_finite_differences():
    x = torch.randn(40, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: epps_pulley(p, 9, 3.0), (x,))


def test_sigreg_is_mean_of_epps_pulley_over_its_directions():
    module = SIGReg(num_directions=32, num_knots=9).eval()
    z = _gaussian(200, 16).double() * 1.3
    directions = module.directions(16, dtype=torch.float64)
    assert directions.shape == (16, 32)
    torch.testing.assert_close(directions.norm(dim=0), torch.ones(32, dtype=torch.float64))
    expected = _numpy_epps_pulley((z @ directions).numpy(), 9, 3.0).mean()
    assert float(module(z)[0]) == pytest.approx(expected, rel=1e-10)


def test_sigreg_gradients_are_finite():
    z = (_gaussian(256, 32) * 0.5).requires_grad_()
    loss, metrics = SIGReg(num_directions=64)(z.reshape(4, 64, 32))
    loss.backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    assert float(metrics["sigreg_max"]) >= float(metrics["sigreg"])


def test_sigreg_step_counts_training_calls_and_resumes():
    z = _gaussian(128, 16)
    module = SIGReg(num_directions=16)
    first, _ = module(z)
    second, _ = module(z)
    assert int(module.step) == 2 and float(first) != float(second)
    module.eval()
    module(z)
    assert int(module.step) == 2

    resumed = SIGReg(num_directions=16)
    resumed.load_state_dict(module.state_dict())
    module.train()
    torch.testing.assert_close(resumed(z)[0], module(z)[0])
    fresh = SIGReg(num_directions=16)
    torch.testing.assert_close(fresh(z)[0], first)


def test_registry_builds_each_regularizer():
    assert REGULARIZERS == ("none", "vicreg", "sigreg")
    assert build_regularizer("none") is None
    assert isinstance(build_regularizer("vicreg", var_weight=2.0), VICReg)
    sigreg = build_regularizer("sigreg", num_directions=8)
    assert isinstance(sigreg, SIGReg) and sigreg.num_directions == 8


def test_registry_errors_name_the_problem():
    with pytest.raises(ConfigError, match="barlow"):
        build_regularizer("barlow")
    with pytest.raises(ConfigError, match="num_directions"):
        build_regularizer("vicreg", num_directions=8)
    with pytest.raises(ConfigError, match="var_weight"):
        build_regularizer("none", var_weight=1.0)
