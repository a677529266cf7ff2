"""Classification probes: how well class labels can be read off frozen features.

Three probes are fitted on the features of a training split and scored on a held-out split:

- `LinearClassifier`: multinomial logistic regression on standardized features with an L2
  penalty, fitted full-batch with L-BFGS (deterministic);
- `MLPClassifier`: a small MLP trained with Adam and cross-entropy (seeded);
- `knn_predict`: a cosine-similarity kNN vote, each neighbour weighted by exp(similarity / T).

`probe_accuracy` fits one of them by name and returns its test accuracy. Features are [N, D]
floats, labels [N] integers in 0..num_classes-1.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError, check_tensor
from hjepa.nets.mlp import MLP

PROBES = ("linear", "mlp", "knn")


class LinearClassifier(nn.Module):
    """Multinomial logistic regression minimizing mean cross-entropy + weight_decay/2 * |W|^2.

    The bias is not penalized. On N training samples this is scikit-learn's
    `LogisticRegression(C=1 / (weight_decay * N))` on the same standardized features, so the
    default 1e-3 matches its default C=1 at N=1000; the penalty per sample stays fixed as N grows.
    """

    def __init__(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        num_classes: int | None = None,
        weight_decay: float = 1e-3,
        max_iter: int = 500,
    ):
        super().__init__()
        y = check_training_labels(z, y)
        self.num_classes = class_count(y, num_classes)
        x = z.double()
        self.z_mean, self.z_std = x.mean(0), x.std(0, correction=0).clamp_min(1e-6)
        self.weight = torch.zeros(z.shape[1], self.num_classes, dtype=torch.float64)
        self.bias = torch.zeros(self.num_classes, dtype=torch.float64)
        self._fit(self._standardize(z), y, weight_decay, max_iter)

    def _standardize(self, z: torch.Tensor) -> torch.Tensor:
        return (z.double() - self.z_mean) / self.z_std

    def _fit(self, x, y, weight_decay, max_iter):
        w, b = self.weight.requires_grad_(), self.bias.requires_grad_()
        opt = torch.optim.LBFGS(
            [w, b],
            lr=1,
            max_iter=max_iter,
            history_size=20,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )

        def closure():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(x @ w + b, y)
            loss = loss + 0.5 * weight_decay * w.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.weight, self.bias = w.detach(), b.detach()

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Class scores [M, num_classes] (float64)."""
        check_tensor("features", z, ndim=2, last_dim=len(self.z_mean))
        return self._standardize(z) @ self.weight + self.bias

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """Predicted classes [M] (long)."""
        return self.logits(z).argmax(1)


class MLPClassifier(nn.Module):
    """An MLP (`depth` layers of width `hidden`) on standardized features, trained with Adam
    on minibatches of `batch` samples for `steps` steps with a cosine learning-rate decay."""

    def __init__(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        num_classes: int | None = None,
        hidden: int = 256,
        depth: int = 3,
        steps: int = 2000,
        batch: int = 256,
        lr: float = 3e-3,
        seed: int = 0,
    ):
        super().__init__()
        y = check_training_labels(z, y)
        self.num_classes = class_count(y, num_classes)
        x = z.float()
        self.z_mean, self.z_std = x.mean(0), x.std(0, correction=0).clamp_min(1e-6)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = MLP(z.shape[1], hidden, self.num_classes, depth=depth)
        gen = torch.Generator().manual_seed(seed)
        self._fit(self._standardize(z), y, steps, batch, lr, gen)

    def _standardize(self, z: torch.Tensor) -> torch.Tensor:
        return (z.float() - self.z_mean) / self.z_std

    def _fit(self, x, y, steps, batch, lr, gen):
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            idx = torch.randint(len(x), (min(batch, len(x)),), generator=gen)
            loss = nn.functional.cross_entropy(self.net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.net.requires_grad_(False)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Class scores [M, num_classes]."""
        check_tensor("features", z, ndim=2, last_dim=len(self.z_mean))
        return self.net(self._standardize(z))

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """Predicted classes [M] (long)."""
        return self.logits(z).argmax(1)


def knn_predict(
    train_z: torch.Tensor,
    train_y: torch.Tensor,
    test_z: torch.Tensor,
    k: int = 20,
    temperature: float = 0.07,
    chunk: int = 1024,
) -> torch.Tensor:
    """Classes [M] by a vote of the k most cosine-similar training samples (all of them if
    k > N), each weighing exp(similarity / temperature). Test rows go `chunk` at a time."""
    train_y = _check_labels("train_y", train_y, len(_check_features("train_z", train_z)))
    check_tensor("test_z", test_z, ndim=2, last_dim=train_z.shape[1])
    if k < 1 or temperature <= 0:
        raise ConfigError(f"kNN needs k >= 1 and temperature > 0, got k={k}, T={temperature}")
    bank = nn.functional.normalize(train_z.float(), dim=1)
    queries = nn.functional.normalize(test_z.float(), dim=1)
    one_hot = nn.functional.one_hot(train_y, int(train_y.max()) + 1).float()
    k = min(k, len(bank))
    preds = []
    for q in queries.split(chunk):
        sim, idx = (q @ bank.T).topk(k, dim=1)
        weights = ((sim - 1) / temperature).exp()  # exp(sim / T) up to a common factor
        preds.append((weights.unsqueeze(2) * one_hot[idx]).sum(1).argmax(1))
    return torch.cat(preds) if preds else torch.zeros(0, dtype=torch.long)


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of `pred` equal to `y`."""
    if pred.shape != y.shape or pred.numel() == 0:
        raise ShapeError(
            f"accuracy: predictions {tuple(pred.shape)} and labels {tuple(y.shape)} must have "
            "the same non-empty shape"
        )
    return float((pred == y).double().mean())


def probe_accuracy(
    kind: str,
    train_z: torch.Tensor,
    train_y: torch.Tensor,
    test_z: torch.Tensor,
    test_y: torch.Tensor,
    seed: int = 0,
) -> float:
    """Test accuracy of a probe of `kind` (one of PROBES) fitted on the training features."""
    if kind not in PROBES:
        raise ConfigError(f"unknown probe kind {kind!r}; choose from {PROBES}")
    check_tensor("test_z", test_z, ndim=2, last_dim=_check_features("train_z", train_z).shape[1])
    test_y = _check_labels("test_y", test_y, len(test_z))
    if kind == "knn":
        return accuracy(knn_predict(train_z, train_y, test_z), test_y)
    if kind == "linear":
        probe = LinearClassifier(train_z, train_y)
    else:
        probe = MLPClassifier(train_z, train_y, seed=seed)
    return accuracy(probe.predict(test_z), test_y)


def _check_features(name: str, z: torch.Tensor) -> torch.Tensor:
    check_tensor(name, z, ndim=2)
    if not z.is_floating_point():
        raise ShapeError(f"{name}: expected floating-point features, got {z.dtype}")
    return z


def _check_labels(name: str, y: torch.Tensor, n: int) -> torch.Tensor:
    if y.ndim != 1 or len(y) != n:
        raise ShapeError(
            f"{name}: expected shape ({n},) to match the features, got {tuple(y.shape)}"
        )
    if y.is_floating_point() or y.is_complex() or (len(y) and int(y.min()) < 0):
        raise ShapeError(f"{name}: expected non-negative integer class labels ({y.dtype})")
    return y.long()


def check_training_labels(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    y = _check_labels("y", y, len(_check_features("z", z)))
    if len(y.unique()) < 2:
        raise ConfigError(
            f"a classifier needs at least two classes in training, got {y.unique().tolist()}"
        )
    return y


def class_count(y: torch.Tensor, num_classes: int | None) -> int:
    needed = int(y.max()) + 1
    if num_classes is None:
        return needed
    if num_classes < needed:
        raise ConfigError(f"num_classes={num_classes} but the labels go up to {needed - 1}")
    return num_classes
