"""The attentive probe: a classifier that learns where to look in a frozen encoder's tokens.

One learned query attends over a sample's tokens (multi-head cross-attention), the pooled vector
goes through a LayerNorm and a linear layer to class scores, as V-JEPA evaluates its frozen
features. Unlike mean pooling plus a linear layer, it can weigh the tokens that matter (the
object, not the background). Trained with AdamW and cross-entropy on minibatches, seeded.
"""

import torch
from torch import nn

from hjepa.errors import ShapeError, check_tensor
from hjepa.eval.classify import accuracy, check_training_labels, class_count


class AttentiveClassifier(nn.Module):
    """Fitted on tokens [N, T, D] and labels [N] when built; `predict(tokens) -> [M]`."""

    def __init__(
        self,
        tokens: torch.Tensor,
        y: torch.Tensor,
        num_classes: int | None = None,
        steps: int = 1000,
        batch: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        seed: int = 0,
    ):
        super().__init__()
        check_tensor("tokens", tokens, ndim=3)
        y = check_training_labels(tokens[:, 0], y)
        dim = tokens.shape[2]
        x = tokens.float()
        self.mean, self.std = x.mean((0, 1)), x.std((0, 1), correction=0).clamp_min(1e-6)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.query = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
            self.attend = nn.MultiheadAttention(dim, _heads(dim), batch_first=True)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, class_count(y, num_classes))
        self._fit(x, y, steps, batch, lr, weight_decay, torch.Generator().manual_seed(seed))

    def _fit(self, x, y, steps, batch, lr, weight_decay, gen):
        opt = torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            idx = torch.randint(len(x), (min(batch, len(x)),), generator=gen)
            loss = nn.functional.cross_entropy(self.logits(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.requires_grad_(False)

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Class scores [M, num_classes] of tokens [M, T, D]."""
        check_tensor("tokens", tokens, ndim=3, last_dim=len(self.mean))
        x = (tokens.float() - self.mean) / self.std
        pooled, _ = self.attend(self.query.expand(len(x), -1, -1), x, x, need_weights=False)
        return self.head(self.norm(pooled[:, 0]))

    @torch.no_grad()
    def predict(self, tokens: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """Predicted classes [M] (long)."""
        return torch.cat([self.logits(t).argmax(1) for t in tokens.split(chunk)])


def attentive_accuracy(train_tokens, train_y, test_tokens, test_y, seed=0, steps=1000) -> float:
    """Test accuracy of an attentive probe fitted on the training tokens (`steps` AdamW steps)."""
    if test_tokens.ndim != 3 or test_tokens.shape[2:] != train_tokens.shape[2:]:
        raise ShapeError(
            f"test tokens {tuple(test_tokens.shape)} do not match the training tokens "
            f"{tuple(train_tokens.shape)}"
        )
    probe = AttentiveClassifier(train_tokens, train_y, steps=steps, seed=seed)
    return accuracy(probe.predict(test_tokens), test_y.long())


def _heads(dim: int) -> int:
    """The most attention heads (up to 4) that divide `dim`."""
    return next(h for h in (4, 3, 2, 1) if dim % h == 0)
