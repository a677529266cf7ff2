import pytest
import torch

from hjepa.config_schema import OptimConfig
from hjepa.train.optim import apply_schedules, build_optimizer, cosine_ramp, warmup_cosine


def test_warmup_cosine_shape():
    assert warmup_cosine(0, 100, 10, 1.0, 0.0) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10, 1.0, 0.0) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10, 1.0, 0.0) == pytest.approx(0.5)
    assert warmup_cosine(100, 100, 10, 1.0, 0.1) == pytest.approx(0.1)


def test_weight_decay_ramp_endpoints():
    assert cosine_ramp(0, 50, 0.04, 0.4) == pytest.approx(0.04)
    assert cosine_ramp(49, 50, 0.04, 0.4) == pytest.approx(0.4)


def test_norms_and_biases_do_not_decay():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    opt = build_optimizer(model, OptimConfig(weight_decay=0.0, weight_decay_end=0.2))
    lr, wd = apply_schedules(opt, OptimConfig(weight_decay=0.0, weight_decay_end=0.2), 99, 100)
    decaying, frozen = opt.param_groups
    assert [p.ndim for p in decaying["params"]] == [2]
    assert decaying["weight_decay"] == pytest.approx(0.2) == wd
    assert frozen["weight_decay"] == 0.0
    assert len(frozen["params"]) == 3
