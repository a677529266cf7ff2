"""Classification probes on frozen features: linear, MLP and kNN."""

import pytest
import torch

from hjepa.errors import ConfigError, ShapeError
from hjepa.eval.classify import (
    PROBES,
    LinearClassifier,
    MLPClassifier,
    accuracy,
    knn_predict,
    probe_accuracy,
)


def blobs(n, seed, sep=3.0, classes=4, dim=16):
    """Gaussian blobs around class centres drawn once (seed 0); `seed` draws the samples."""
    centers = torch.randn(classes, dim, generator=torch.Generator().manual_seed(0)) * sep
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(classes, (n,), generator=gen)
    return centers[y] + torch.randn(n, dim, generator=gen), y


def xor(n, seed):
    """2-D XOR: the label is whether the coordinates' signs differ. The set is point-symmetric
    (z and -z share a label), so the best linear model has zero weights."""
    u = torch.rand(n // 2, 2, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    z = torch.cat([u, -u])
    return z, ((z[:, 0] > 0) ^ (z[:, 1] > 0)).long()


def test_linear_separates_blobs_and_is_at_chance_on_shuffled_labels():
    z, y = blobs(600, seed=1)
    test_z, test_y = blobs(600, seed=2)
    assert probe_accuracy("linear", z, y, test_z, test_y) >= 0.98
    gen = torch.Generator().manual_seed(3)
    shuffled = y[torch.randperm(len(y), generator=gen)]
    test_shuffled = test_y[torch.randperm(len(test_y), generator=gen)]
    assert abs(probe_accuracy("linear", z, shuffled, test_z, test_shuffled) - 0.25) < 0.08


def test_linear_matches_sklearn_logistic_regression():
    linear_model = pytest.importorskip("sklearn.linear_model")
    z, y = blobs(800, seed=1, sep=0.4)
    test_z, test_y = blobs(800, seed=2, sep=0.4)
    ours = LinearClassifier(z, y, weight_decay=1e-3)
    z, test_z = z.double(), test_z.double()
    mean, std = z.mean(0), z.std(0, correction=0)
    reference = linear_model.LogisticRegression(C=1 / (1e-3 * len(z)), max_iter=2000, tol=1e-8)
    reference.fit(((z - mean) / std).numpy(), y.numpy())
    theirs = torch.as_tensor(reference.predict(((test_z - mean) / std).numpy()))
    ours_acc, theirs_acc = accuracy(ours.predict(test_z), test_y), accuracy(theirs, test_y)
    assert 0.4 < theirs_acc < 0.95  # overlapping classes: the comparison means something
    assert abs(ours_acc - theirs_acc) <= 0.02
    centred = ours.weight - ours.weight.mean(1, keepdim=True)  # softmax is shift-invariant
    assert torch.allclose(centred, torch.as_tensor(reference.coef_.T), atol=1e-3)


def test_mlp_solves_xor_where_linear_is_at_chance():
    z, y = xor(800, seed=0)
    test_z, test_y = xor(800, seed=1)
    linear = LinearClassifier(z, y)
    mlp = MLPClassifier(z, y, steps=250, batch=128)
    assert accuracy(linear.predict(test_z), test_y) < 0.6
    assert accuracy(mlp.predict(test_z), test_y) > 0.95
    assert mlp.logits(test_z).shape == (800, 2)


def test_mlp_is_seeded():
    z, y = xor(200, seed=0)
    first = MLPClassifier(z, y, steps=20, seed=4).logits(z)
    assert torch.equal(first, MLPClassifier(z, y, steps=20, seed=4).logits(z))
    assert not torch.equal(first, MLPClassifier(z, y, steps=20, seed=5).logits(z))


def test_knn_on_blobs_and_with_k_larger_than_the_training_set():
    z, y = blobs(500, seed=1)
    test_z, test_y = blobs(500, seed=2)
    assert probe_accuracy("knn", z, y, test_z, test_y) >= 0.98
    few_z = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    pred = knn_predict(few_z, torch.tensor([0, 0, 1]), torch.tensor([[0.1, 1.0], [1.0, 0.2]]), k=50)
    assert pred.tolist() == [1, 0]


def test_accuracy_counts_matches():
    assert accuracy(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2])) == 0.75


@pytest.mark.parametrize("kind", PROBES)
def test_bad_inputs_raise(kind):
    z, y = blobs(40, seed=1)
    with pytest.raises(ConfigError, match="linear"):
        probe_accuracy("svm", z, y, z, y)
    bad = z.clone()
    bad[3, 2] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        probe_accuracy(kind, bad, y, z, y)
    with pytest.raises(ShapeError, match="shape"):
        probe_accuracy(kind, z, y[:-1], z, y)
    with pytest.raises(ShapeError, match="features|test_z"):
        probe_accuracy(kind, z, y, z[:, :5], y)


def test_single_training_class_raises():
    z, _ = blobs(40, seed=1)
    with pytest.raises(ConfigError, match="two classes"):
        LinearClassifier(z, torch.zeros(40, dtype=torch.long))
