"""Pairs of views for the language objectives (`data.name: text_pairs`): a natural-language
description and its regular expression.

- `data.source: nlrx`: the generated NL-RX-SYNTH-style set (`modalities/nlrx.py`), its 8,000
  training and 2,000 test pairs;
- a `.jsonl` file, one `{"text": ..., "regex": ...}` object per line (optional `"examples"`:
  strings the regex matches); `data.test_source` names the test file, or else a seeded
  `data.held_out` share of the file's pairs is the test split.

`data.fraction` < 1 keeps that share of the training pairs (drawn with `train.seed`).

Each sample is one pair as token ids, right padded to `model.max_tokens`:
    ids          description <sep> regex <eos>   (next-token loss on the regex and <eos>)
    text_length  tokens of the description
    length       tokens of the whole sequence
    view_ids     the regex alone (the second view), view_length its tokens
"""

import functools
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from hjepa.errors import ConfigError, DataError
from hjepa.modalities.nlrx import RegexPair, nlrx_synth
from hjepa.modalities.text_tokenizer import PairTokenizer

GENERATED = "nlrx"
TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class PairSplit:
    """Pairs and where each came from ("pairs.jsonl line 7"), for error messages."""

    pairs: list[RegexPair]
    origins: list[str]


def read_pairs_jsonl(path: str | Path) -> PairSplit:
    """The pairs of a JSONL file; DataError naming the line of a pair that is not usable."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    pairs, origins = [], []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                pairs.append(_parse_pair(line, f"{path} line {number}"))
                origins.append(f"{path} line {number}")
    if not pairs:
        raise DataError(f"{path}: holds no pairs")
    return PairSplit(pairs, origins)


def _parse_pair(line: str, where: str) -> RegexPair:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not a JSON object ({exc.msg})") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object with text and regex")
    text, regex = record.get("text"), record.get("regex")
    for key, view in (("text", text), ("regex", regex)):
        if not isinstance(view, str) or not view.strip():
            raise DataError(f"{where}: the {key} view is empty or missing")
    try:
        re.compile(regex)
    except (re.error, RecursionError, OverflowError) as exc:
        raise DataError(f"{where}: regex {regex!r} does not compile ({exc})") from None
    examples = tuple(record.get("examples", ()))
    for example in examples:
        if not isinstance(example, str) or not re.fullmatch(regex, example):
            raise DataError(f"{where}: example {example!r} does not match regex {regex!r}")
    return RegexPair(text, regex, examples)


def pair_splits(data_cfg, seed: int) -> tuple[PairSplit, PairSplit]:
    """(train, test) pairs of `data_cfg` (a DataConfig), the training share applied."""
    if data_cfg.source == GENERATED:
        train, test = _generated_splits()
    elif data_cfg.source.endswith(".jsonl"):
        train = read_pairs_jsonl(data_cfg.source)
        if data_cfg.test_source:
            test = read_pairs_jsonl(data_cfg.test_source)
        else:
            train, test = _held_out(train, data_cfg.held_out, seed)
    else:
        raise ConfigError(
            f"data.source: expected {GENERATED!r} or a .jsonl file of pairs, "
            f"got {data_cfg.source!r}"
        )
    return _share(train, data_cfg.fraction, seed), test


@functools.cache
def _generated_splits() -> tuple[PairSplit, PairSplit]:
    """The generated set's splits (drawn once per process: generating takes seconds)."""
    train, test = nlrx_synth(seed=0)
    return _generated(train, "training"), _generated(test, "test")


def _generated(pairs: list[RegexPair], split: str) -> PairSplit:
    return PairSplit(pairs, [f"generated {split} pair {i}" for i in range(len(pairs))])


def _held_out(split: PairSplit, share: float, seed: int) -> tuple[PairSplit, PairSplit]:
    order = list(range(len(split.pairs)))
    random.Random(seed).shuffle(order)
    cut = round(share * len(order))
    if cut == 0 or cut == len(order):
        raise DataError(
            f"data.held_out={share} leaves {len(order) - cut} training and {cut} test pairs of "
            f"{len(order)}; name a data.test_source or change the share"
        )
    return _subset(split, sorted(order[cut:])), _subset(split, sorted(order[:cut]))


def _share(split: PairSplit, fraction: float, seed: int) -> PairSplit:
    if fraction >= 1.0:
        return split
    keep = max(1, round(fraction * len(split.pairs)))
    return _subset(split, sorted(random.Random(seed).sample(range(len(split.pairs)), keep)))


def _subset(split: PairSplit, indices: list[int]) -> PairSplit:
    return PairSplit([split.pairs[i] for i in indices], [split.origins[i] for i in indices])


class PairDataset(Dataset):
    """Token ids of each pair (module docstring), checked against the context when built."""

    def __init__(self, split: PairSplit, tokenizer: PairTokenizer, max_tokens: int, extra: int):
        """`extra`: tokens appended to the description elsewhere (the [PRED] tokens)."""
        self.pairs, self.max_tokens = split.pairs, max_tokens
        self.tokenizer = tokenizer
        self.encoded = []
        for pair, origin in zip(split.pairs, split.origins, strict=True):
            text, regex = tokenizer.encode(pair.text), tokenizer.encode(pair.regex)
            needed = max(len(text) + len(regex) + 2, len(text) + extra)
            if needed > max_tokens:
                raise DataError(
                    f"{origin}: the pair needs {needed} tokens, more than the context of "
                    f"{max_tokens} (model.max_tokens)"
                )
            self.encoded.append((text, regex))

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, index: int) -> dict:
        text, regex = self.encoded[index]
        t = self.tokenizer
        sequence = [*text, t.sep_id, *regex, t.eos_id]
        return {
            "ids": self._padded(sequence),
            "text_length": torch.tensor(len(text)),
            "length": torch.tensor(len(sequence)),
            "view_ids": self._padded(regex),
            "view_length": torch.tensor(len(regex)),
        }

    def _padded(self, ids: list[int]) -> torch.Tensor:
        out = torch.full((self.max_tokens,), self.tokenizer.pad_id, dtype=torch.long)
        out[: len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out


def train_tokenizer(cfg) -> PairTokenizer:
    """A tokenizer trained on the config's training pairs, after checking that both splits
    load and fit the context (so unusable pairs are refused before a run folder is made)."""
    train, test = pair_splits(cfg.data, cfg.train.seed)
    texts = [view for pair in train.pairs for view in (pair.text, pair.regex)]
    tokenizer = PairTokenizer.train(texts, cfg.model.vocab_size)
    for split in (train, test):
        PairDataset(split, tokenizer, cfg.model.max_tokens, cfg.language.pred_tokens)
    return tokenizer


def pair_dataset(cfg, split: str, run_dir: Path | None) -> PairDataset:
    """The `split` pairs of a run as token ids, with the tokenizer saved in `run_dir` (without
    one: a tokenizer trained afresh)."""
    if run_dir is None:
        tokenizer = train_tokenizer(cfg)
    else:
        tokenizer = PairTokenizer.load(Path(run_dir) / TOKENIZER_FILE)
    train, test = pair_splits(cfg.data, cfg.train.seed)
    chosen = train if split == "train" else test
    return PairDataset(chosen, tokenizer, cfg.model.max_tokens, cfg.language.pred_tokens)
