"""NL-RX-SYNTH-style pairs of (English description, regular expression), drawn from a grammar.

After Locascio et al. (2016): a small recursive grammar writes a description and its regex
together, e.g. "lines containing the word dog followed by a number" and `.*dog.*[0-9].*`.
The regexes are Python `re` patterns and describe the set of strings they `re.fullmatch`;
"and" and "not" are written with lookaheads, e.g. `(?=.*dog)(?=.*[0-9]).*` and `(?!.*dog).*`.

Each grammar node also samples strings it matches, so every pair comes with 1-5 positive
examples, each checked with `re.fullmatch`. Everything is a pure function of the seed: one
`random.Random` drives the grammar and the examples, and no set is iterated.
"""

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from hjepa.errors import DataError

ALPHABET_WORDS = ("dog", "truck", "ring", "lake")  # the literal words of the grammar
ANY_CHARS = string.ascii_letters + string.digits  # what "a character" samples from
MAX_EXAMPLES = 5  # positive examples kept per pair
_EXAMPLE_TRIES = 40  # candidate strings drawn per pair before giving up on more examples
_FILL = 3  # longest run of random characters between the parts of an example
_COUNTS = (("two", 2), ("three", 3), ("four", 4))
_CLASSES = (  # (phrasings, regex, characters it matches)
    (("a capital letter", "an upper-case letter", "a capital"), "[A-Z]", string.ascii_uppercase),
    (("a lower-case letter", "a small letter"), "[a-z]", string.ascii_lowercase),
    (("a letter",), "[A-Za-z]", string.ascii_letters),
    (("a number", "a digit"), "[0-9]", string.digits),
    (("a vowel",), "[AEIOUaeiou]", "AEIOUaeiou"),
    (("a character", "any character"), ".", ANY_CHARS),
)
_KINDS = ("contains", "starts", "ends")
_PARTICIPLES = {  # (kind, negated) -> phrasings after "lines"
    ("contains", False): ("containing", "with"),
    ("starts", False): ("starting with", "beginning with"),
    ("ends", False): ("ending with",),
    ("contains", True): ("not containing", "without"),
    ("starts", True): ("not starting with",),
    ("ends", True): ("not ending with",),
}
_VERBS = {  # (kind, negated) -> phrasings after "lines that"
    ("contains", False): ("contain",),
    ("starts", False): ("start with", "begin with"),
    ("ends", False): ("end with",),
    ("contains", True): ("do not contain",),
    ("starts", True): ("do not start with",),
    ("ends", True): ("do not end with",),
}
_FULL = {"contains": ".*{}.*", "starts": "{}.*", "ends": ".*{}"}  # a condition as a whole line
_AHEAD = {"contains": "(?{}.*{})", "starts": "(?{}{})", "ends": "(?{}.*{}$)"}  # as a lookahead

_Sampler = Callable[[random.Random], str]


@dataclass(frozen=True)
class RegexPair:
    """A description, its regex, and strings the regex fullmatches."""

    text: str
    regex: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pattern:
    """A pattern inside a line: its words, its regex, and a sampler of strings it matches.

    `atomic`: the regex takes a quantifier without parentheses (a class, `.` or a group)."""

    text: str
    regex: str
    sample: _Sampler
    atomic: bool


@dataclass(frozen=True)
class _Condition:
    """A constraint on a whole line: it contains / starts with / ends with a pattern, or not."""

    kind: str
    negated: bool
    pattern: _Pattern

    def full(self) -> str:
        """The regex of the lines that meet this condition alone."""
        if self.negated:
            return self.ahead() + ".*"
        return _FULL[self.kind].format(self.pattern.regex)

    def ahead(self) -> str:
        """This condition as a lookahead at the start of a line."""
        return _AHEAD[self.kind].format("!" if self.negated else "=", self.pattern.regex)

    def phrase(self, rng: random.Random, verb: bool) -> str:
        """Words for this condition, after "lines" (participle) or "lines that" (verb)."""
        table = _VERBS if verb else _PARTICIPLES
        return f"{rng.choice(table[self.kind, self.negated])} {self.pattern.text}"


def _fill(rng: random.Random, longest: int = _FILL) -> str:
    """A run of 0..longest random characters."""
    return "".join(rng.choices(ANY_CHARS, k=rng.randint(0, longest)))


def _random_line(rng: random.Random) -> str:
    """A short line of characters from one pool (digits, lower, upper or any)."""
    pool = rng.choice((string.digits, string.ascii_lowercase, string.ascii_uppercase, ANY_CHARS))
    return "".join(rng.choices(pool, k=rng.randint(0, 6)))


def _char_class(rng: random.Random, any_char: bool) -> _Pattern:
    """A one-character pattern such as "a vowel"; `any_char`: "a character" may be drawn."""
    phrasings, regex, chars = rng.choice(_CLASSES if any_char else _CLASSES[:-1])
    return _Pattern(rng.choice(phrasings), regex, lambda r: r.choice(chars), True)


def _word(rng: random.Random) -> _Pattern:
    """A literal word such as "the word dog"."""
    word = rng.choice(ALPHABET_WORDS)
    text = rng.choice((f"the word {word}", f"the string {word}", word))
    return _Pattern(text, word, lambda r: word, False)


def _atom(rng: random.Random, any_char: bool) -> _Pattern:
    """A character class or a literal word."""
    return _word(rng) if rng.random() < 0.35 else _char_class(rng, any_char)


def _quantified(rng: random.Random, atom: _Pattern) -> _Pattern:
    """`atom` repeated: N times, at least N times, or one or more times."""
    base = atom.regex if atom.atomic else f"({atom.regex})"
    word, n = rng.choice(_COUNTS)
    choice = rng.randrange(3)
    if choice == 0:
        text, regex, low, high = f"{word} times", f"{base}{{{n}}}", n, n
    elif choice == 1:
        text, regex, low, high = f"at least {word} times", f"{base}{{{n},}}", n, n + 2
    else:
        text, regex, low, high = "one or more times", f"{base}+", 1, 3

    def sample(r: random.Random) -> str:
        return "".join(atom.sample(r) for _ in range(r.randint(low, high)))

    return _Pattern(f"{atom.text} {text}", regex, sample, False)


def _unit(rng: random.Random, any_char: bool) -> _Pattern:
    """An atom, repeated or not."""
    atom = _atom(rng, any_char)
    return _quantified(rng, atom) if rng.random() < 0.25 else atom


def _either(a: _Pattern, b: _Pattern) -> _Pattern:
    """Either pattern, "a or b": `(a|b)`."""

    def sample(r: random.Random) -> str:
        return (a if r.random() < 0.5 else b).sample(r)

    return _Pattern(f"{a.text} or {b.text}", f"({a.regex}|{b.regex})", sample, True)


def _then(a: _Pattern, b: _Pattern, gap: bool, rng: random.Random) -> _Pattern:
    """One pattern after the other, "a followed by b" (`a.*b`), or with `gap` False
    "a immediately followed by b" (`ab`)."""
    if gap:
        text = f"{a.text} {rng.choice(('followed by', 'before'))} {b.text}"
    else:
        text = f"{a.text} immediately followed by {b.text}"

    def sample(r: random.Random) -> str:
        return a.sample(r) + (_fill(r) if gap else "") + b.sample(r)

    return _Pattern(text, f"{a.regex}{'.*' if gap else ''}{b.regex}", sample, False)


def _pattern(rng: random.Random, depth: int, any_char: bool) -> _Pattern:
    """A pattern of at most `depth` nested operators (or, followed by)."""
    if depth == 0 or rng.random() < 0.7:
        return _unit(rng, any_char)
    choice = rng.randrange(4)
    if choice == 0:
        a, b = _unit(rng, any_char), _unit(rng, any_char)
        while b.regex == a.regex:
            b = _unit(rng, any_char)
        return _either(a, b)
    a, b = _pattern(rng, depth - 1, any_char), _pattern(rng, depth - 1, any_char)
    return _then(a, b, choice != 3, rng)


def _condition(rng: random.Random, negated: bool, kinds: tuple[str, ...] = _KINDS) -> _Condition:
    """A line condition of one of `kinds` on a pattern of depth <= 2 ("a character" is never
    negated)."""
    return _Condition(rng.choice(kinds), negated, _pattern(rng, 2, not negated))


def _conditions(rng: random.Random) -> tuple[list[_Condition], str]:
    """One or two conditions and how they join: "and", "or", or "" for one."""
    roll = rng.random()
    if roll < 0.45:
        return [_condition(rng, rng.random() < 0.2)], ""
    join = "and" if roll < 0.85 else "or"
    first = _condition(rng, False)
    negated = rng.random() < 0.35
    kinds = _KINDS
    if join == "and" and not negated:  # a line has one start and one end: no two to meet
        kinds = tuple(k for k in _KINDS if k == "contains" or k != first.kind)
    second = _condition(rng, negated, kinds)
    while second.full() == first.full():
        second = _condition(rng, negated, kinds)
    return [first, second], join


def _line_regex(conditions: list[_Condition], join: str) -> str:
    """The regex of the lines meeting the conditions, joined by "and" / "or"."""
    if join == "and":
        return "".join(c.ahead() for c in conditions) + ".*"
    return "|".join(c.full() for c in conditions)


def _line_text(rng: random.Random, conditions: list[_Condition], join: str) -> str:
    """The description: "lines containing ..." or "lines that contain ..."."""
    verb = rng.random() < 0.3
    parts = [c.phrase(rng, verb) for c in conditions]
    return ("lines that " if verb else "lines ") + f" {join} ".join(parts)


def _candidate(rng: random.Random, conditions: list[_Condition], join: str) -> str:
    """A string likely to meet the conditions (checked by the caller): the samples of the
    positive conditions' patterns in line order, with random runs between them."""
    if join == "or":
        conditions = [rng.choice(conditions)]
    positive = [c for c in conditions if not c.negated]
    if not positive or rng.random() < 0.1:
        return _random_line(rng)
    order = {"starts": 0, "contains": 1, "ends": 2}
    positive.sort(key=lambda c: order[c.kind])
    gaps = [_fill(rng) for _ in range(len(positive) + 1)]
    if positive[0].kind == "starts":
        gaps[0] = ""
    if positive[-1].kind == "ends":
        gaps[-1] = ""
    samples = [c.pattern.sample(rng) for c in positive]
    return gaps[0] + "".join(s + g for s, g in zip(samples, gaps[1:], strict=True))


def _examples(
    rng: random.Random, regex: str, conditions: list[_Condition], join: str
) -> tuple[str, ...]:
    """Up to MAX_EXAMPLES distinct strings that fullmatch `regex`, in the order found."""
    compiled = re.compile(regex)
    found: dict[str, None] = {}
    for _ in range(_EXAMPLE_TRIES):
        text = _candidate(rng, conditions, join)
        if compiled.fullmatch(text):
            found[text] = None
            if len(found) == MAX_EXAMPLES:
                break
    return tuple(found)


def _draw_pair(rng: random.Random, taken: dict[str, RegexPair]) -> RegexPair | None:
    """One pair from the grammar, or None when its regex is in `taken` or no example of it
    was found."""
    conditions, join = _conditions(rng)
    regex = _line_regex(conditions, join)
    text = _line_text(rng, conditions, join)
    if regex in taken:
        return None
    examples = _examples(rng, regex, conditions, join)
    return RegexPair(text, regex, examples) if examples else None


def _check_count(name: str, value: int, low: int) -> None:
    """DataError unless value is an int >= low."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DataError(f"{name} must be an int >= {low}, got {value!r}")


def generate_pairs(count: int, seed: int) -> list[RegexPair]:
    """`count` pairs with distinct regexes, the same for the same seed."""
    _check_count("count", count, 0)
    rng = random.Random(seed)
    pairs: dict[str, RegexPair] = {}
    for _ in range(50 * count + 1000):
        if len(pairs) == count:
            return list(pairs.values())
        pair = _draw_pair(rng, pairs)
        if pair is not None:
            pairs[pair.regex] = pair
    raise DataError(f"the grammar gave only {len(pairs)} distinct regexes, {count} asked for")


def nlrx_synth(
    seed: int = 0, train: int = 8000, test: int = 2000
) -> tuple[list[RegexPair], list[RegexPair]]:
    """(train, test) pairs of one draw; no regex is in both (the sizes of NL-RX-SYNTH)."""
    _check_count("train", train, 1)
    _check_count("test", test, 0)
    pairs = generate_pairs(train + test, seed)
    return pairs[:train], pairs[train:]


def vocabulary_stats(pairs: list[RegexPair]) -> dict:
    """Sizes of a set of pairs: word types of the descriptions, mean words and regex length."""
    if not pairs:
        raise DataError("vocabulary_stats: no pairs given")
    words = [w for p in pairs for w in p.text.split(" ")]
    return {
        "pairs": len(pairs),
        "word_types": len(dict.fromkeys(words)),
        "mean_words": len(words) / len(pairs),
        "mean_regex_length": sum(len(p.regex) for p in pairs) / len(pairs),
        "mean_examples": sum(len(p.examples) for p in pairs) / len(pairs),
    }
