"""A byte-level BPE tokenizer trained on a run's own training texts (Hugging Face `tokenizers`,
the optional extra `hjepa[text]`), with the special tokens the language objectives use.

    tokenizer = PairTokenizer.train(texts, vocab_size=512)
    ids = tokenizer.encode("lines containing a number")
    tokenizer.decode(ids) == "lines containing a number"

Byte-level: every string round-trips exactly, whatever its characters. Saved as one JSON file
(`tokenizer.json` in a run folder) and loaded back unchanged.
"""

from pathlib import Path

from hjepa.errors import ConfigError, DataError
from hjepa.io import write_text_atomic

SPECIAL_TOKENS = ("<pad>", "<sep>", "<eos>", "<pred>")
PAD_ID, SEP_ID, EOS_ID, PRED_ID = range(len(SPECIAL_TOKENS))  # the first ids of every vocabulary


def _tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ConfigError(
            "language models need the `tokenizers` package: pip install 'hjepa[text]'"
        ) from None
    return tokenizers


class PairTokenizer:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        ids = [tokenizer.token_to_id(token) for token in SPECIAL_TOKENS]
        if ids != list(range(len(SPECIAL_TOKENS))):
            raise DataError(
                f"tokenizer: expected the special tokens {SPECIAL_TOKENS} as its "
                f"first ids, got ids {ids}"
            )
        self.pad_id, self.sep_id, self.eos_id, self.pred_id = PAD_ID, SEP_ID, EOS_ID, PRED_ID

    @classmethod
    def train(cls, texts: list[str], vocab_size: int) -> "PairTokenizer":
        """BPE merges learned from `texts`, up to `vocab_size` tokens in all."""
        tk = _tokenizers()
        alphabet = tk.pre_tokenizers.ByteLevel.alphabet()
        if vocab_size < len(alphabet) + len(SPECIAL_TOKENS):
            raise ConfigError(
                f"model.vocab_size={vocab_size} is below the byte alphabet and special tokens "
                f"({len(alphabet) + len(SPECIAL_TOKENS)})"
            )
        tokenizer = tk.Tokenizer(tk.models.BPE())
        tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = tk.decoders.ByteLevel()
        trainer = tk.trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=alphabet,
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer)
        return cls(tokenizer)

    @classmethod
    def load(cls, path: Path) -> "PairTokenizer":
        if not Path(path).is_file():
            raise DataError(f"{path}: no tokenizer there (was the run trained on text pairs?)")
        try:
            return cls(_tokenizers().Tokenizer.from_str(Path(path).read_text()))
        except Exception as exc:  # the library raises its own exception types
            raise DataError(f"{path}: not a readable tokenizer ({exc})") from None

    def save(self, path: Path) -> None:
        write_text_atomic(path, self.tokenizer.to_str())

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)
