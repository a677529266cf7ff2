"""Scores of predicted regexes against the references of NL-RX-style pairs.

- exact match: the predicted string equals the reference regex, character for character;
- compiles: Python's `re` compiles the prediction;
- equivalence: the prediction and the reference `re.fullmatch` the same strings among a sample
  of probe strings (the pair's positive examples, edits and splices of them, and random
  strings of the task's alphabet). This is an approximation of exact (DFA) equivalence, tested
  on sampled strings only: two regexes that differ only on strings never sampled count as
  equivalent, so near misses (`[a-z]` for `[A-Za-z]` in one place, say) often pass.

Matching runs Python's backtracking `re`; a prediction that backtracks exponentially (e.g.
`(.*)+x`) would take minutes on a 30-character probe, so each pair's matching has a time limit
(`MATCH_SECONDS`, where the platform allows: SIGALRM in the main thread) and a prediction that
runs past it counts as not equivalent.
"""

import contextlib
import random
import re
import signal
import string
import threading

from hjepa.errors import DataError
from hjepa.modalities.nlrx import ALPHABET_WORDS, RegexPair

MAX_PROBE_LENGTH = 20  # longest random probe string
MATCH_SECONDS = 1.0  # time limit of one pair's matching
_POOLS = (  # characters that edits and random strings draw from
    string.ascii_lowercase,
    string.ascii_uppercase,
    string.digits,
    "AEIOUaeiou",
    "".join(dict.fromkeys("".join(ALPHABET_WORDS))),  # the letters of the literal words
    " ._-",  # no letter or digit, yet `.` matches them
)


def _char(rng: random.Random) -> str:
    """A character from a random pool (lower, upper, digit, vowel, a word's letter, other)."""
    return rng.choice(rng.choice(_POOLS))


def _piece(rng: random.Random) -> str:
    """A character from a random pool, or now and then a whole literal word."""
    return rng.choice(ALPHABET_WORDS) if rng.random() < 0.15 else _char(rng)


def _random_string(rng: random.Random) -> str:
    """Characters and literal words, cut at a random length of 0..MAX_PROBE_LENGTH."""
    length = rng.randint(0, MAX_PROBE_LENGTH)
    text = ""
    while len(text) < length:
        text += _piece(rng)
    return text[:length]


def _edit(rng: random.Random, text: str) -> str:
    """`text` with a piece inserted, a character deleted, or one replaced, at a random place."""
    action = rng.randrange(3) if text else 0
    at = rng.randint(0, len(text)) if action == 0 else rng.randrange(len(text))
    if action == 0:
        return text[:at] + _piece(rng) + text[at:]
    if action == 1:
        return text[:at] + text[at + 1 :]
    return text[:at] + _char(rng) + text[at + 1 :]


def _start(rng: random.Random, examples: tuple[str, ...]) -> str:
    """A positive example, or (always when there is none) a random string."""
    return rng.choice(examples) if examples and rng.random() < 0.7 else _random_string(rng)


def _mutation(rng: random.Random, examples: tuple[str, ...]) -> str:
    """An example or a random string after 1-3 edits."""
    text = _start(rng, examples)
    for _ in range(rng.randint(1, 3)):
        text = _edit(rng, text)
    return text


def _splice(rng: random.Random, examples: tuple[str, ...]) -> str:
    """The start of one example or random string and the end of another."""
    a, b = _start(rng, examples), _start(rng, examples)
    return a[: rng.randint(0, len(a))] + b[rng.randint(0, len(b)) :]


def probe_strings(pair: RegexPair, rng: random.Random, count: int = 64) -> list[str]:
    """`count` distinct strings to compare regexes on: the pair's examples, the empty string,
    then in turn edits of the examples, splices of them, and random strings (the same for the
    same rng state)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise DataError(f"probe count must be an int >= 1, got {count!r}")
    sources = (_mutation, _splice, lambda r, _: _random_string(r))
    found = dict.fromkeys([*pair.examples, ""])
    for turn in range(20 * count):
        if len(found) >= count:
            break
        found[sources[turn % 3](rng, pair.examples)] = None
    return list(found)[:count]


def _compiled(pattern: str) -> re.Pattern | None:
    """`pattern` compiled, or None when `re` cannot compile it (any error it raises)."""
    try:
        return re.compile(pattern)
    except Exception:  # re.error, RecursionError, OverflowError, ...: it does not compile
        return None


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise _TooSlow in the block after `seconds` (no limit off the main thread or where
    SIGALRM does not exist); `re` checks for signals while it matches."""
    main = threading.current_thread() is threading.main_thread()
    if not (main and hasattr(signal, "setitimer")):
        yield
        return

    def interrupt(signum, frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _same_language(predicted: re.Pattern, reference: re.Pattern, strings: list[str]) -> bool:
    """Whether both patterns fullmatch exactly the same of `strings` (False past the limit)."""
    try:
        with _time_limit(MATCH_SECONDS):
            return all(
                (predicted.fullmatch(s) is None) == (reference.fullmatch(s) is None)
                for s in strings
            )
    except _TooSlow:
        return False


def equivalent(predicted: str, pair: RegexPair, strings: list[str]) -> bool:
    """Whether `predicted` compiles and fullmatches the same of `strings` as `pair.regex`."""
    compiled = _compiled(predicted)
    return compiled is not None and _same_language(compiled, re.compile(pair.regex), strings)


def _check_lists(predicted: list[str], pairs: list[RegexPair]) -> None:
    """DataError unless the lists are non-empty, of one length, and the predictions strings."""
    if not pairs:
        raise DataError("regex_scores: no pairs given")
    if len(predicted) != len(pairs):
        raise DataError(f"regex_scores: {len(predicted)} predictions for {len(pairs)} pairs")
    for i, p in enumerate(predicted):
        if not isinstance(p, str):
            raise DataError(f"regex_scores: prediction {i} is a {type(p).__name__}, not a str")


def equivalences(
    predicted: list[str], pairs: list[RegexPair], seed: int = 0, count: int = 64
) -> list[bool]:
    """Whether each `predicted[i]` is equivalent to `pairs[i].regex` on `count` probe strings
    (each pair's from its own rng, drawn from `random.Random(seed)`)."""
    _check_lists(predicted, pairs)
    master = random.Random(seed)
    same = []
    for guess, pair in zip(predicted, pairs, strict=True):
        rng = random.Random(master.getrandbits(64))
        compiled = _compiled(guess)
        same.append(
            compiled is not None
            and _same_language(compiled, re.compile(pair.regex), probe_strings(pair, rng, count))
        )
    return same


def regex_scores(
    predicted: list[str], pairs: list[RegexPair], seed: int = 0, count: int = 64
) -> dict:
    """Fractions of `predicted[i]` that equal, compile, and are equivalent to `pairs[i].regex`
    (`equivalences`)."""
    same = equivalences(predicted, pairs, seed, count)
    n = len(pairs)
    return {
        "exact_match": sum(g == p.regex for g, p in zip(predicted, pairs, strict=True)) / n,
        "compiles": sum(_compiled(g) is not None for g in predicted) / n,
        "equivalence": sum(same) / n,
    }
