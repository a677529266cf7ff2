"""A small decoder-only language model: token and learned position embeddings, pre-norm causal
transformer blocks, a final LayerNorm, and an output head tied to the token embedding (the
GPT-2 layout, so its weights map one to one onto `transformers`' GPT2LMHeadModel).

    lm = CausalLM(vocab_size=512, max_length=96, embed_dim=128, depth=4, num_heads=4)
    hidden = lm(ids)            # [B, L] token ids (right padded) -> [B, L, D]
    logits = lm.logits(hidden)  # -> [B, L, vocab_size]

Padding goes on the right: under causal attention no real token sees it, so no mask is needed.
"""

import torch
from torch import nn

from hjepa.errors import ShapeError
from hjepa.nets.transformer import Block, init_weights, rescale_residual_projections


class CausalLM(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        max_length: int,
        embed_dim: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
    ):
        super().__init__()
        self.vocab_size, self.max_length = vocab_size, max_length
        self.num_features = embed_dim
        self.token_embed = nn.Embedding(vocab_size, embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, max_length, embed_dim))
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, causal=True) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim)
        self.apply(init_weights)
        nn.init.normal_(self.token_embed.weight, std=0.02)
        nn.init.normal_(self.pos_embed, std=0.01)
        rescale_residual_projections(self.blocks)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Final hidden states [B, L, D] of token ids [B, L]."""
        self.check_ids(ids)
        x = self.token_embed(ids) + self.pos_embed[:, : ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Next-token logits [..., vocab_size] of hidden states [..., D] (tied head)."""
        return hidden @ self.token_embed.weight.T

    def check_ids(self, ids: torch.Tensor) -> None:
        if ids.ndim != 2 or ids.dtype != torch.long:
            raise ShapeError(
                f"token ids: expected a [B, L] long tensor, got {tuple(ids.shape)} {ids.dtype}"
            )
        if ids.shape[1] > self.max_length:
            raise ShapeError(
                f"token ids: {ids.shape[1]} tokens exceed the context of "
                f"{self.max_length} (model.max_tokens)"
            )
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ShapeError(f"token ids: values must lie in [0, {self.vocab_size})")
