"""A Hugging Face causal LM (`transformers`, the optional extra `hjepa[text]`) behind the
interface the language objectives use, so the LLM-JEPA and STP terms train it too:

    from transformers import AutoModelForCausalLM
    from hjepa.jepa.language import LanguageJEPA
    lm = HFCausalLM(AutoModelForCausalLM.from_pretrained(path))   # or from a local config
    model = LanguageJEPA(lm, pad_id, pred_id, jepa_weight=1.0, pred_tokens=1, stp_weight=0.02)
    loss, metrics = model(batch)                                  # batches as `text_pairs` makes

`pad_id` / `pred_id` are token ids of that model's own tokenizer (add a [PRED] token and resize
the embeddings if it has none). Inputs are right padded, as for `nets/causal_lm.py`: causal
attention keeps the padding out of every real token's view, so no attention mask is passed.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError


class HFCausalLM(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        if model.get_output_embeddings() is None:
            name = type(model).__name__
            raise ConfigError(f"{name} has no language-model head: pass a causal LM")
        self.model = model
        self.num_features = model.config.hidden_size

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Final hidden states [B, L, D] (after the model's last norm) of token ids [B, L]."""
        return self.model.base_model(input_ids=ids).last_hidden_state

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.model.get_output_embeddings()(hidden)
