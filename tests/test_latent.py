import math

import pytest
import torch
import torch.nn as nn

from hjepa.errors import ShapeError
from hjepa.jepa.latent import LatentVariable, gaussian_kl


@pytest.fixture
def latent():
    torch.manual_seed(0)
    module = LatentVariable(context_dim=6, target_dim=5, latent_dim=3, hidden=16)
    for p in module.parameters():  # move away from the zero-initialized output layer
        nn.init.normal_(p, std=0.5)
    return module


def test_gaussian_kl_matches_closed_form():
    mu = torch.tensor([[0.5, -1.0], [0.0, 2.0]])
    sigma = torch.tensor([[1.0, 0.5], [2.0, 1.0]])
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    hand = 0.5 * (mu**2 + sigma**2 - 1 - 2 * torch.log(sigma)).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, 2 * torch.log(sigma)), expected)
    torch.testing.assert_close(expected, hand)
    # Row 0 by hand: dim 0 gives 0.5 * 0.5^2; dim 1 gives 0.5 * (1 + 0.25 - 1 + 2 ln 2).
    assert float(gaussian_kl(mu, 2 * torch.log(sigma))[0]) == pytest.approx(
        0.125 + 0.5 * (0.25 + 2 * math.log(2))
    )


def test_forward_loss_is_mean_kl_of_posterior(latent):
    s_x, s_y = torch.randn(7, 6), torch.randn(7, 5)
    z, loss, metrics = latent(s_x, s_y)
    mu, logvar = latent.posterior(s_x, s_y)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0))
    torch.testing.assert_close(loss, expected.sum(-1).mean())
    assert z.shape == (7, 3)
    assert float(metrics["z_kl"]) == pytest.approx(float(loss.detach()))
    assert float(loss.detach()) > 0.01


def test_eval_uses_posterior_mean_and_train_samples(latent):
    s_x, s_y = torch.randn(4, 6), torch.randn(4, 5)
    latent.eval()
    z, _, _ = latent(s_x, s_y)
    torch.testing.assert_close(z, latent.posterior(s_x, s_y)[0])
    latent.train()
    z_train, _, _ = latent(s_x, s_y)
    assert not torch.allclose(z_train, z)


def test_gradient_flows_to_posterior(latent):
    z, loss, _ = latent(torch.randn(4, 6), torch.randn(4, 5))
    (loss + z.square().sum()).backward()
    for name, p in latent.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_kl_zero_when_posterior_is_prior():
    module = LatentVariable(context_dim=6, target_dim=5, latent_dim=3)
    for p in module.parameters():
        nn.init.zeros_(p)
    _, loss, _ = module(torch.randn(4, 6), torch.randn(4, 5))
    assert float(loss.detach()) == 0.0
    fresh = LatentVariable(context_dim=6, target_dim=5, latent_dim=3)
    assert float(fresh(torch.randn(4, 6), torch.randn(4, 5))[1].detach()) == pytest.approx(0.0)


def test_sample_prior(latent):
    z = latent.sample_prior(10, generator=torch.Generator().manual_seed(1))
    assert z.shape == (10, 3)
    again = latent.sample_prior(10, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(z, again)
    assert float(latent.sample_prior(10, zero=True).abs().sum()) == 0.0
    big = latent.sample_prior(4000)
    assert abs(float(big.mean())) < 0.05 and abs(float(big.std()) - 1) < 0.05


def test_shape_errors(latent):
    with pytest.raises(ShapeError, match="s_y"):
        latent(torch.randn(4, 6), torch.randn(4, 4))
    with pytest.raises(ShapeError):
        latent(torch.randn(4, 6), torch.randn(3, 5))
