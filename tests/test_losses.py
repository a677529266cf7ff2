import pytest
import torch

from hjepa.errors import ConfigError, ShapeError
from hjepa.jepa.losses import LOSS_KINDS, prediction_loss, step_distance_loss


@pytest.fixture
def pair():
    generator = torch.Generator().manual_seed(0)
    pred = torch.randn(3, 5, 8, generator=generator) * 2
    target = torch.randn(3, 5, 8, generator=generator) * 2
    return pred, target


def _smooth_l1(diff: torch.Tensor) -> torch.Tensor:
    absolute = diff.abs()
    return torch.where(absolute < 1.0, 0.5 * diff**2, absolute - 0.5).mean()


def _expected(pred, target, kind):
    diff = pred - target
    if kind == "l1":
        return diff.abs().mean()
    if kind == "l2":
        return (diff**2).mean()
    if kind == "smooth_l1":
        return _smooth_l1(diff)
    dots = (pred * target).sum(-1)
    return (1 - dots / (pred.norm(dim=-1) * target.norm(dim=-1))).mean()


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_each_kind_matches_formula(pair, kind):
    pred, target = pair
    loss, metrics = prediction_loss(pred, target, kind=kind)
    expected = _expected(pred, target, kind)
    assert loss.ndim == 0
    torch.testing.assert_close(loss, expected)
    assert float(metrics["pred_loss"]) == pytest.approx(float(expected), rel=1e-5)
    assert not metrics["pred_loss"].requires_grad


def test_smooth_l1_is_between_half_l2_and_l1_and_uses_both_branches(pair):
    pred, target = pair
    diff = (pred - target).abs()
    assert (diff < 1).any() and (diff > 1).any()
    loss, _ = prediction_loss(pred, target, kind="smooth_l1")
    l1, _ = prediction_loss(pred, target, kind="l1")
    assert float(loss) < float(l1)


def test_target_layernorm_normalizes_target_only(pair):
    pred, target = pair
    target = target * 10 + 3
    mean = target.mean(-1, keepdim=True)
    var = target.var(-1, unbiased=False, keepdim=True)
    normalized = (target - mean) / torch.sqrt(var + 1e-5)
    loss, _ = prediction_loss(pred, target, kind="l2", target_layernorm=True)
    torch.testing.assert_close(loss, ((pred - normalized) ** 2).mean())
    plain, _ = prediction_loss(pred, target, kind="l2")
    assert float(plain) > 10 * float(loss)


def test_gradient_reaches_both_pred_and_target(pair):
    pred, target = (t.clone().requires_grad_() for t in pair)
    loss, _ = prediction_loss(pred, target, kind="l2")
    loss.backward()
    torch.testing.assert_close(pred.grad, 2 * (pred - target).detach() / pred.numel())
    torch.testing.assert_close(target.grad, -pred.grad)


def test_cosine_is_zero_for_scaled_copies(pair):
    pred, _ = pair
    loss, _ = prediction_loss(pred, 3.0 * pred, kind="cosine")
    assert abs(float(loss)) < 1e-6
    opposite, _ = prediction_loss(pred, -pred, kind="cosine")
    assert float(opposite) == pytest.approx(2.0, abs=1e-6)


def test_target_std_metric(pair):
    pred, target = pair
    _, metrics = prediction_loss(pred, target)
    expected = target.reshape(-1, 8).std(0).mean()
    assert float(metrics["target_std"]) == pytest.approx(float(expected), rel=1e-5)


def test_unknown_kind_lists_valid_kinds(pair):
    with pytest.raises(ConfigError, match="huber.*l1, l2, smooth_l1, cosine"):
        prediction_loss(*pair, kind="huber")


def test_shape_mismatch():
    with pytest.raises(ShapeError):
        prediction_loss(torch.zeros(2, 4), torch.zeros(2, 5))


def test_step_distance_loss_matches_its_formula():
    torch.manual_seed(0)
    anchors, nexts, others = torch.randn(3, 50, 4).unbind(0)
    loss, metrics = step_distance_loss(anchors, nexts, others, cap=5.0, local_weight=10.0)
    local = (anchors - nexts).norm(dim=-1)
    far = (anchors - others).norm(dim=-1)
    expected = 10.0 * torch.relu(local - 1).pow(2).mean() + torch.log1p(torch.exp(5 - far)).mean()
    torch.testing.assert_close(loss, expected, atol=1e-4, rtol=1e-4)
    assert metrics["far_mean"] == pytest.approx(far.mean().item(), rel=1e-4)
    # steps within one unit and pairs beyond the cap cost (almost) nothing
    near = anchors + 0.1
    assert step_distance_loss(anchors, near, anchors + 100.0, cap=5.0)[0] < 1e-3
