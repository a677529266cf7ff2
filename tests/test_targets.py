import pytest
import torch
import torch.nn as nn

from hjepa.errors import ConfigError
from hjepa.jepa.targets import (
    TARGET_KINDS,
    EMATarget,
    FrozenTarget,
    SameEncoderTarget,
    StopGradTarget,
    build_target,
    ema_momentum,
)


class TinyEncoder(nn.Module):
    def __init__(self, dim_in=6, dim_out=4):
        super().__init__()
        self.num_features = dim_out
        self.proj = nn.Linear(dim_in, dim_out)
        self.norm = nn.BatchNorm1d(dim_out)

    def forward_features(self, x, scale=1.0):
        return self.norm(self.proj(x)) * scale


@pytest.fixture
def encoder():
    torch.manual_seed(0)
    return TinyEncoder()


def _perturb(module):
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p))
        module.norm.running_mean.add_(3.0)


def test_momentum_schedule_endpoints_and_midpoint():
    assert ema_momentum(0, 100, 0.996, 1.0) == pytest.approx(0.996)
    assert ema_momentum(100, 100, 0.996, 1.0) == pytest.approx(1.0)
    assert ema_momentum(50, 100, 0.99, 1.0) == pytest.approx(0.995)
    assert ema_momentum(500, 100, 0.99, 1.0) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        ema_momentum(0, 0)


def test_ema_update_matches_hand_formula(encoder):
    target = EMATarget(encoder, momentum_start=0.9, momentum_end=1.0)
    before = {k: v.clone() for k, v in target.target_encoder.state_dict().items()}
    _perturb(encoder)
    metrics = target.update(encoder, step=25, total_steps=100)
    m = 0.9 + 0.1 * 0.25
    assert metrics["ema_momentum"] == pytest.approx(m)
    after = target.target_encoder.state_dict()
    for name, param in encoder.named_parameters():
        expected = m * before[name] + (1 - m) * param.detach()
        torch.testing.assert_close(after[name], expected)
    torch.testing.assert_close(after["norm.running_mean"], encoder.norm.running_mean)


def test_ema_with_momentum_one_keeps_weights(encoder):
    target = EMATarget(encoder, momentum_start=1.0, momentum_end=1.0)
    before = target.target_encoder.proj.weight.clone()
    _perturb(encoder)
    target.update(encoder, step=3, total_steps=10)
    torch.testing.assert_close(target.target_encoder.proj.weight, before)


@pytest.mark.parametrize("kind", ["ema", "stopgrad", "frozen"])
def test_stop_gradient_targets_send_no_gradient(encoder, kind):
    target = build_target(kind, encoder)
    x = torch.randn(8, 6)
    out = target(x, scale=2.0)
    assert out.shape == (8, 4) and not out.requires_grad
    context = encoder.forward_features(x)
    ((context - out) ** 2).sum().backward()
    # Gradient only through the context branch: same as a loss against a detached constant.
    grads = [p.grad.clone() for p in encoder.parameters()]
    encoder.zero_grad()
    ((encoder.forward_features(x) - out.detach()) ** 2).sum().backward()
    for got, expected in zip(grads, [p.grad for p in encoder.parameters()], strict=True):
        torch.testing.assert_close(got, expected)
    assert all(not p.requires_grad for p in target.parameters())
    assert target.needs_regularizer is False


def test_no_target_sends_gradient_and_needs_regularizer(encoder):
    target = build_target("none", encoder)
    assert isinstance(target, SameEncoderTarget) and target.needs_regularizer
    out = target(torch.randn(8, 6))
    assert out.requires_grad
    out.sum().backward()
    assert encoder.proj.weight.grad is not None and encoder.proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("cls", [StopGradTarget, SameEncoderTarget])
def test_shared_targets_do_not_duplicate_encoder_weights(encoder, cls):
    target = cls(encoder)
    assert len(target.state_dict()) == 0 and len(list(target.parameters())) == 0
    model = nn.ModuleDict({"encoder": encoder, "target": target})
    assert sorted(model.state_dict()) == sorted("encoder." + k for k in encoder.state_dict())
    with torch.no_grad():
        encoder.proj.weight.add_(1.0)
    x = torch.randn(3, 6)
    encoder.eval()
    torch.testing.assert_close(target(x), encoder.forward_features(x))


def test_ema_state_round_trips_through_state_dict(encoder):
    target = EMATarget(encoder)
    _perturb(encoder)
    target.update(encoder, step=0, total_steps=10)
    restored = EMATarget(TinyEncoder())
    restored.load_state_dict(target.state_dict())
    restored_state = restored.state_dict()
    assert list(restored_state) == list(target.state_dict())
    for name, value in target.state_dict().items():
        torch.testing.assert_close(restored_state[name], value, msg=name)
    x = torch.randn(5, 6)
    target.eval()
    restored.eval()
    torch.testing.assert_close(restored(x), target(x))


def test_frozen_target_never_changes(encoder):
    target = FrozenTarget(encoder)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    _perturb(encoder)
    assert target.update(encoder, step=5, total_steps=10) == {}
    target.train()
    target(torch.randn(16, 6))  # batch norm in train mode would move its statistics
    assert not target.target_encoder.training
    for name, value in target.state_dict().items():
        torch.testing.assert_close(value, before[name])


def test_build_target_kinds_and_errors(encoder):
    assert TARGET_KINDS == ("ema", "stopgrad", "frozen", "none")
    ema = build_target("ema", encoder, momentum_start=0.5, momentum_end=0.9)
    assert isinstance(ema, EMATarget)
    assert ema.update(encoder, 10, 10)["ema_momentum"] == pytest.approx(0.9)
    with pytest.raises(ConfigError, match="momentum"):
        build_target("ema", encoder, momentum_start=1.5)
    with pytest.raises(ConfigError, match="byol.*ema, stopgrad, frozen, none"):
        build_target("byol", encoder)
