"""NL-RX-style pairs from the grammar, and the scores of predicted regexes."""

import random
import re
import time

import pytest

from hjepa.errors import DataError
from hjepa.eval.regex_match import (
    MATCH_SECONDS,
    MAX_PROBE_LENGTH,
    equivalent,
    probe_strings,
    regex_scores,
)
from hjepa.modalities.nlrx import (
    MAX_EXAMPLES,
    RegexPair,
    generate_pairs,
    nlrx_synth,
    vocabulary_stats,
)


@pytest.fixture(scope="module")
def pairs():
    return generate_pairs(2000, seed=0)


def test_pairs_are_deterministic_under_a_seed(pairs):
    assert generate_pairs(300, seed=0) == pairs[:300]
    assert generate_pairs(300, seed=1) != pairs[:300]


def test_regexes_are_distinct_and_match_their_examples(pairs):
    assert len(pairs) == 2000
    assert len({p.regex for p in pairs}) == len(pairs)
    for p in pairs:
        assert 1 <= len(p.examples) <= MAX_EXAMPLES, p
        compiled = re.compile(p.regex)
        assert all(compiled.fullmatch(e) for e in p.examples), p


def test_descriptions_are_lower_case_single_spaced(pairs):
    for p in pairs:
        assert p.text == p.text.lower() and p.text.split(" ") == p.text.split(), p.text
        assert p.text.startswith("lines ")


def test_vocabulary_and_regex_lengths_are_those_of_nlrx_synth(pairs):
    stats = vocabulary_stats(pairs)
    assert 30 <= stats["word_types"] <= 60
    assert 15 <= stats["mean_regex_length"] <= 35


def test_nlrx_synth_splits_without_shared_regexes():
    train, test = nlrx_synth(seed=3, train=400, test=100)
    assert (len(train), len(test)) == (400, 100)
    assert not {p.regex for p in train} & {p.regex for p in test}


def test_nlrx_synth_default_sizes():
    train, test = nlrx_synth()
    assert (len(train), len(test)) == (8000, 2000)
    assert not {p.regex for p in train} & {p.regex for p in test}


def test_bad_counts_raise():
    with pytest.raises(DataError, match="count"):
        generate_pairs(-1, seed=0)
    with pytest.raises(DataError, match="train"):
        nlrx_synth(train=0)


def test_probe_strings_are_deterministic_and_start_with_the_examples(pairs):
    pair = pairs[0]
    strings = probe_strings(pair, random.Random(5))
    assert strings == probe_strings(pair, random.Random(5))
    assert len(strings) == len(set(strings)) == 64
    assert strings[: len(pair.examples)] == list(pair.examples)
    lengths = {len(s) for s in strings}
    assert min(lengths) == 0 and len(lengths) >= 10 and MAX_PROBE_LENGTH in lengths


def _probes(regex: str, *examples: str) -> tuple[RegexPair, list[str]]:
    pair = RegexPair("a test pair", regex, examples)
    return pair, probe_strings(pair, random.Random(0), 200)


def test_equivalent_regexes():
    pair, strings = _probes(".*dog.*", "dog", "xdog7")
    assert equivalent(".*dog.*", pair, strings)
    assert equivalent(".*(dog).*", pair, strings)
    assert not equivalent(".*cat.*", pair, strings)
    pair, strings = _probes("[0-9]{2,}", "12", "345")
    assert equivalent("[0123456789][0-9]+", pair, strings)
    assert not equivalent("[0-9]{2}", pair, strings)


def test_a_prediction_that_does_not_compile_is_not_equivalent():
    pair, strings = _probes("dog", "dog")
    assert not equivalent("(", pair, strings)
    assert not equivalent("a{99999999999999999999}", pair, strings)


def test_regex_scores_counts_exact_compiling_and_equivalent_predictions():
    pairs = [
        RegexPair("lines containing dog", ".*dog.*", ("dog",)),
        RegexPair("lines starting with a number", "[0-9].*", ("1a",)),
        RegexPair("lines ending with a vowel", ".*[AEIOUaeiou]", ("xa",)),
        RegexPair("lines with a letter", ".*[A-Za-z].*", ("b",)),
    ]
    predicted = [".*dog.*", "[0-9]+.*", ".*[aeiou]", "(["]
    scores = regex_scores(predicted, pairs, seed=1)
    assert scores == {"exact_match": 0.25, "compiles": 0.75, "equivalence": 0.5}
    assert regex_scores(predicted, pairs, seed=1) == scores


def test_regex_scores_rejects_bad_lists():
    pair = RegexPair("lines containing dog", ".*dog.*", ("dog",))
    with pytest.raises(DataError, match="2 predictions for 1 pairs"):
        regex_scores(["dog", "dog"], [pair])
    with pytest.raises(DataError, match="no pairs"):
        regex_scores([], [])


def test_a_prediction_that_backtracks_forever_is_stopped_and_not_equivalent():
    pair = RegexPair("lines ending with x", ".*x", ("ax",))
    strings = ["a" * 40, "ax"]
    start = time.perf_counter()
    assert not equivalent("(.*)+(.*)+y", pair, strings)
    assert time.perf_counter() - start < 5 * MATCH_SECONDS
