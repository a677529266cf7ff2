"""JEPA terms for language models, beside next-token cross-entropy (`model.kind=language_model`).

    L = CE(regex | description)
      + jepa_weight · (1 - cos(pred(enc(text)), enc(regex)))        LLM-JEPA
      + stp_weight  · (1 - cos(h_t - h_r, h_r - h_s)),  s < r < t     Semantic Tube Prediction

- enc(view): the model's final hidden state at the view's last token, the view run alone. The
  description is the prefix of the training sequence, so under causal attention its enc comes
  from the cross-entropy pass for free; the regex view costs one more forward pass.
- pred(enc(text)): the same model run on the description followed by k = `pred_tokens` [PRED]
  tokens, its hidden state at the last one (one more pass; k = 0 uses enc(text) itself).
  No predictor network, no stop-gradient: both views are trained (as in LLM-JEPA).
- STP: three positions s < r < t of one sequence's hidden states from the cross-entropy pass
  (r uniform over the inner positions, s below it, t above it, all uniform): the trajectory of
  hidden states should keep its direction. No extra forward pass.

`encoder` is any causal LM with `encoder(ids) -> hidden [B, L, D]` and `encoder.logits(hidden)`:
`nets/causal_lm.py`, or a Hugging Face model through `nets/hf_causal_lm.py`.
"""

import torch
import torch.nn.functional as F

from hjepa.jepa.model import SelfSupervisedModel


def answer_cross_entropy(logits, ids, text_length, length) -> torch.Tensor:
    """Mean next-token cross-entropy over the answer (the tokens after <sep>, <eos> included):
    position p predicts token p + 1, for text_length <= p < length - 1."""
    positions = torch.arange(ids.shape[1] - 1, device=ids.device)
    scored = (positions >= text_length[:, None]) & (positions < length[:, None] - 1)
    return F.cross_entropy(logits[:, :-1][scored], ids[:, 1:][scored])


def last_hidden(hidden: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Each row's hidden state at its last token (position length - 1): [B, L, D] -> [B, D]."""
    return hidden[torch.arange(len(hidden), device=hidden.device), length - 1]


def tube_positions(noise: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Positions s < r < t [B, 3] within each sequence's `length` (>= 3) from uniform noise
    [B, 3]: r among 1..length-2, then s among 0..r-1 and t among r+1..length-1."""
    r = 1 + (noise[:, 1] * (length - 2)).long().clamp(max=length - 3)
    s = (noise[:, 0] * r).long().clamp(max=r - 1)
    t = r + 1 + (noise[:, 2] * (length - 1 - r)).long().clamp(max=length - 2 - r)
    return torch.stack([s, r, t], dim=1)


def tube_loss(hidden: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Semantic Tube Prediction: mean over rows of 1 - cos(h_t - h_r, h_r - h_s)."""
    rows = torch.arange(len(hidden), device=hidden.device)[:, None]
    h_s, h_r, h_t = hidden[rows, positions].unbind(dim=1)
    return (1 - F.cosine_similarity(h_t - h_r, h_r - h_s, dim=-1)).mean()


def with_pred_tokens(ids, text_length, pred_id: int, pad_id: int, k: int) -> torch.Tensor:
    """Each row's description followed by k [PRED] tokens, right padded: [B, max text + k]."""
    width = int(text_length.max()) + k
    positions = torch.arange(width, device=ids.device)[None]
    out = torch.full((len(ids), width), pad_id, dtype=ids.dtype, device=ids.device)
    text = positions < text_length[:, None]
    out[text] = ids[:, :width][text]
    out[text.logical_not() & (positions < text_length[:, None] + k)] = pred_id
    return out


class LanguageJEPA(SelfSupervisedModel):
    input_key = "ids"

    def __init__(
        self,
        encoder,
        pad_id: int,
        pred_id: int,
        jepa_weight: float = 0.0,
        pred_tokens: int = 1,
        stp_weight: float = 0.0,
    ):
        super().__init__()
        self.encoder = encoder
        self.pad_id, self.pred_id = pad_id, pred_id
        self.jepa_weight, self.pred_tokens, self.stp_weight = jepa_weight, pred_tokens, stp_weight

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        text_length, length = batch["text_length"], batch["length"]
        ids = _trimmed(batch["ids"], length)
        hidden = self.encoder(ids)
        loss = answer_cross_entropy(self.encoder.logits(hidden), ids, text_length, length)
        metrics = {"ce": loss.detach()}
        if self.jepa_weight > 0:
            jepa = self.view_loss(batch, hidden)
            loss = loss + self.jepa_weight * jepa
            metrics["jepa"] = jepa.detach()
        if self.stp_weight > 0:
            stp = tube_loss(hidden, tube_positions(batch["stp_noise"], length))
            loss = loss + self.stp_weight * stp
            metrics["stp"] = stp.detach()
        return loss, metrics

    def view_loss(self, batch: dict, hidden: torch.Tensor) -> torch.Tensor:
        """1 - cos(pred(enc(text)), enc(regex)), averaged over the batch."""
        text_length = batch["text_length"]
        if self.pred_tokens == 0:
            predicted = last_hidden(hidden, text_length)
        else:
            ids = with_pred_tokens(
                batch["ids"], text_length, self.pred_id, self.pad_id, self.pred_tokens
            )
            predicted = last_hidden(self.encoder(ids), text_length + self.pred_tokens)
        view_length = batch["view_length"]
        view = self.encoder(_trimmed(batch["view_ids"], view_length))
        target = last_hidden(view, view_length)
        return (1 - F.cosine_similarity(predicted, target, dim=-1)).mean()

    @torch.no_grad()
    def representations(self, batch: dict) -> torch.Tensor:
        """enc(text): the hidden state at each description's last token, [B, D]."""
        hidden = self.encoder(_trimmed(batch["ids"], batch["text_length"]))
        return last_hidden(hidden, batch["text_length"])


def _trimmed(ids: torch.Tensor, length: torch.Tensor, multiple: int = 16) -> torch.Tensor:
    """Drop the padding columns no row needs, keeping a multiple of `multiple` columns (few
    distinct shapes: each new one costs the CPU kernels a warm-up)."""
    width = -(-int(length.max()) // multiple) * multiple
    return ids[:, :width]
