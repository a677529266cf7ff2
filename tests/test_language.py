"""The language objectives: cross-entropy on the answer, the LLM-JEPA view term, Semantic Tube
Prediction, the causal LM, the Hugging Face adapter, the pair files and a tiny end-to-end run."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from hjepa.config import load_config
from hjepa.errors import DataError
from hjepa.jepa.language import (
    LanguageJEPA,
    answer_cross_entropy,
    tube_loss,
    tube_positions,
    with_pred_tokens,
)
from hjepa.modalities.nlrx import RegexPair, generate_pairs
from hjepa.modalities.text_pairs import PairDataset, PairSplit, read_pairs_jsonl
from hjepa.modalities.text_tokenizer import PAD_ID, PRED_ID, PairTokenizer
from hjepa.nets.causal_lm import CausalLM

pytest.importorskip("tokenizers")

PAIRS = [
    RegexPair("lines containing a number", ".*[0-9].*", ("a1",)),
    RegexPair("lines starting with dog", "dog.*", ("dogs",)),
    RegexPair("lines ending with a vowel", ".*[AEIOUaeiou]", ("tea",)),
]


def _tokenizer() -> PairTokenizer:
    return PairTokenizer.train([v for p in PAIRS for v in (p.text, p.regex)], vocab_size=300)


def _batch(tokenizer, pairs=PAIRS, max_tokens=48, noise_seed=0) -> dict:
    split = PairSplit(pairs, [f"pair {i}" for i in range(len(pairs))])
    dataset = PairDataset(split, tokenizer, max_tokens, extra=2)
    batch = torch.utils.data.default_collate([dataset[i] for i in range(len(dataset))])
    generator = torch.Generator().manual_seed(noise_seed)
    batch["stp_noise"] = torch.rand(len(pairs), 3, generator=generator)
    return batch


def _lm(vocab=300, max_length=48) -> CausalLM:
    torch.manual_seed(0)
    return CausalLM(vocab, max_length, embed_dim=32, depth=2, num_heads=4)


def test_tokenizer_round_trips_and_keeps_special_ids(tmp_path):
    tokenizer = _tokenizer()
    for text in ("lines containing a number", "(?=.*dog)(?!.*[0-9]).*", "Ünïcode ☃ 12"):
        assert tokenizer.decode(tokenizer.encode(text)) == text
    tokenizer.save(tmp_path / "tokenizer.json")
    loaded = PairTokenizer.load(tmp_path / "tokenizer.json")
    assert loaded.encode("dog.*") == tokenizer.encode("dog.*")
    assert (loaded.pad_id, loaded.pred_id) == (PAD_ID, PRED_ID)


def test_answer_cross_entropy_matches_a_loop():
    torch.manual_seed(1)
    ids = torch.randint(4, 20, (2, 7))
    logits = torch.randn(2, 7, 20)
    text_length, length = torch.tensor([2, 3]), torch.tensor([6, 7])
    terms = []
    for b in range(2):
        for p in range(int(text_length[b]), int(length[b]) - 1):
            terms.append(F.cross_entropy(logits[b, p][None], ids[b, p + 1][None]))
    expected = torch.stack(terms).mean()
    assert torch.allclose(answer_cross_entropy(logits, ids, text_length, length), expected)


def test_tube_positions_are_ordered_and_inside_each_sequence():
    noise = torch.cat([torch.rand(500, 3), torch.zeros(1, 3), torch.full((1, 3), 0.99999)])
    length = torch.randint(3, 40, (len(noise),))
    s, r, t = tube_positions(noise, length).unbind(dim=1)
    assert bool(((s >= 0) & (s < r) & (r < t) & (t < length)).all())
    assert int(tube_positions(torch.zeros(1, 3), torch.tensor([3])).sum()) == 0 + 1 + 2


def test_tube_loss_equals_a_direct_computation_on_a_toy_sequence():
    hidden = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 3.0]]])
    # s=0, r=1, t=3: h_t - h_r = (1, 3), h_r - h_s = (1, 0): cos = 1 / sqrt(10)
    expected = 1 - 1 / math.sqrt(10)
    assert tube_loss(hidden, torch.tensor([[0, 1, 3]])).item() == pytest.approx(expected)
    # a straight line of hidden states costs nothing
    assert tube_loss(hidden, torch.tensor([[0, 1, 2]])).item() == pytest.approx(0.0, abs=1e-7)


def test_pred_tokens_follow_each_description():
    ids = torch.tensor([[5, 6, 7, 1, 9], [5, 1, 8, 2, 0]])
    out = with_pred_tokens(ids, torch.tensor([3, 1]), PRED_ID, PAD_ID, k=2)
    assert out.tolist() == [[5, 6, 7, PRED_ID, PRED_ID], [5, PRED_ID, PRED_ID, PAD_ID, PAD_ID]]


def test_causal_lm_does_not_look_ahead():
    lm = _lm().eval()
    ids = torch.randint(4, 300, (2, 10))
    changed = ids.clone()
    changed[:, 6:] = torch.randint(4, 300, (2, 4))
    assert torch.allclose(lm(ids)[:, :6], lm(changed)[:, :6], atol=1e-6)


def test_padding_does_not_change_the_losses():
    tokenizer = _tokenizer()
    model = LanguageJEPA(_lm(), PAD_ID, PRED_ID, jepa_weight=1.0, pred_tokens=2, stp_weight=0.1)
    short, padded = _batch(tokenizer, max_tokens=40), _batch(tokenizer, max_tokens=48)
    assert torch.allclose(model(short)[0], model(padded)[0], atol=1e-6)


def test_the_jepa_term_gradient_reaches_the_model():
    tokenizer = _tokenizer()
    model = LanguageJEPA(_lm(), PAD_ID, PRED_ID, jepa_weight=1.0, pred_tokens=1)
    batch = _batch(tokenizer)
    model.view_loss(batch, model.encoder(batch["ids"])).backward()
    blocks = [p.grad for p in model.encoder.blocks.parameters()]
    assert all(g is not None for g in blocks) and sum(float(g.abs().sum()) for g in blocks) > 0
    pred_row = model.encoder.token_embed.weight.grad[PRED_ID]
    assert float(pred_row.abs().sum()) > 0  # the [PRED] token's embedding is trained


def test_terms_are_off_at_weight_zero_and_add_up():
    tokenizer = _tokenizer()
    batch = _batch(tokenizer)
    ce_only = LanguageJEPA(_lm(), PAD_ID, PRED_ID)
    both = LanguageJEPA(_lm(), PAD_ID, PRED_ID, jepa_weight=0.5, pred_tokens=1, stp_weight=2.0)
    loss, metrics = ce_only(batch)
    assert set(metrics) == {"ce"} and torch.allclose(loss, metrics["ce"])
    loss, metrics = both(batch)
    expected = metrics["ce"] + 0.5 * metrics["jepa"] + 2.0 * metrics["stp"]
    assert torch.allclose(loss, expected, atol=1e-6)


def _gpt2_with_weights_of(lm: CausalLM):
    transformers = pytest.importorskip("transformers")
    d = lm.num_features
    config = transformers.GPT2Config(
        vocab_size=lm.vocab_size,
        n_positions=lm.max_length,
        n_embd=d,
        n_layer=len(lm.blocks),
        n_head=lm.blocks[0].attn.heads,
        activation_function="gelu",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        tie_word_embeddings=True,
    )
    gpt2 = transformers.GPT2LMHeadModel(config).eval()
    state = {
        "transformer.wte.weight": lm.token_embed.weight,
        "transformer.wpe.weight": lm.pos_embed[0],
        "transformer.ln_f.weight": lm.norm.weight,
        "transformer.ln_f.bias": lm.norm.bias,
    }
    for i, block in enumerate(lm.blocks):
        pieces = {
            "ln_1": block.norm1,
            "ln_2": block.norm2,
            "attn.c_attn": block.attn.qkv,
            "attn.c_proj": block.attn.proj,
            "mlp.c_fc": block.mlp.fc1,
            "mlp.c_proj": block.mlp.fc2,
        }
        for name, module in pieces.items():
            linear = isinstance(module, torch.nn.Linear)  # GPT-2's Conv1D stores W transposed
            state[f"transformer.h.{i}.{name}.weight"] = module.weight.T if linear else module.weight
            state[f"transformer.h.{i}.{name}.bias"] = module.bias
    gpt2.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=False)
    return gpt2


def test_the_hugging_face_adapter_gives_the_native_losses_on_the_same_weights():
    from hjepa.nets.hf_causal_lm import HFCausalLM

    tokenizer = _tokenizer()
    native_lm = _lm().eval()
    adapted_lm = HFCausalLM(_gpt2_with_weights_of(native_lm))
    terms = dict(jepa_weight=1.0, pred_tokens=2, stp_weight=0.5)
    batch = _batch(tokenizer)
    native_loss, native = LanguageJEPA(native_lm, PAD_ID, PRED_ID, **terms)(batch)
    adapted_loss, adapted = LanguageJEPA(adapted_lm, PAD_ID, PRED_ID, **terms)(batch)
    for key in ("ce", "jepa", "stp"):
        assert adapted[key].item() == pytest.approx(native[key].item(), abs=1e-4)
    assert adapted_loss.item() == pytest.approx(native_loss.item(), abs=1e-4)


@pytest.mark.parametrize(
    "record, problem",
    [
        ({"text": "", "regex": "dog"}, "text view is empty"),
        ({"text": "a dog", "regex": "  "}, "regex view is empty"),
        ({"text": "a dog", "regex": "(dog"}, "does not compile"),
        ({"text": "a dog", "regex": "dog", "examples": ["cat"]}, "does not match"),
    ],
)
def test_unusable_pairs_name_their_line(tmp_path, record, problem):
    path = tmp_path / "pairs.jsonl"
    good = json.dumps({"text": "lines with a dog", "regex": ".*dog.*"})
    path.write_text(f"{good}\n\n{json.dumps(record)}\n")
    with pytest.raises(DataError, match=f"line 3: .*{problem}"):
        read_pairs_jsonl(path)


def test_a_pair_longer_than_the_context_names_its_line(tmp_path):
    path = tmp_path / "pairs.jsonl"
    lines = [{"text": "a dog", "regex": "dog"}, {"text": "dog " * 30, "regex": "(dog)+"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    split = read_pairs_jsonl(path)
    with pytest.raises(DataError, match="line 2: the pair needs .*model.max_tokens"):
        PairDataset(split, _tokenizer(), max_tokens=16, extra=1)


@pytest.mark.slow
def test_a_tiny_run_trains_and_evaluates(tmp_path):
    from hjepa.eval.language import evaluate_language_run
    from hjepa.train.trainer import train

    pairs = tmp_path / "pairs.jsonl"
    lines = [{"text": p.text, "regex": p.regex} for p in generate_pairs(160, seed=1)]
    pairs.write_text("\n".join(json.dumps(line) for line in lines))
    overrides = [
        f"data.source={pairs}",
        "data.held_out=0.25",
        f"train.run_dir={tmp_path}",
        "train.steps=60",
        "train.batch_size=32",
        "train.progress=false",
        "train.tensorboard=false",
        "model.embed_dim=32",
        "model.depth=2",
        "language.stp_weight=0.02",
        "data.fraction=0.5",
    ]
    result = train(load_config("configs/llmjepa_nlrx.yaml", overrides))
    assert {"ce", "jepa", "stp"} <= set(result.metrics)
    assert (result.run_dir / "tokenizer.json").is_file()
    scores = evaluate_language_run(result.run_dir)
    assert scores["test_pairs"] == 40
    assert 0.0 <= scores["exact_match"] <= scores["equivalence"] <= 1.0
    assert (result.run_dir / "eval" / "report.md").is_file()
