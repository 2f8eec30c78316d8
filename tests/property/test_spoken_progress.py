"""Every reader of spelled and digit strings moves on: on any words from the vocabulary it
branches on, ``compose`` reads each token once at most and ``digit_run`` stops, so no answer
can hold a turn in a loop that reads the same token forever ("a thousand" once did)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests._bounded import bounded
from voicecore.spoken.compose import compose
from voicecore.spoken.digits import digit_run

# One or two words of each kind a reader branches on: a small vocabulary, so that the words
# readers look at in pairs ("a hundred", "double five", "o as in", "capital b") meet often.
_WORDS = [
    *("a", "o", "oh", "b", "you", "bravo", "capital", "as", "in"),  # letters
    *("five", "zero", "fifteen", "twenty", "hundred", "thousand", "double", "and", "415"),  # digits
    *("at", "dot"),  # symbols
]
_TOKENS = st.lists(st.sampled_from(_WORDS), max_size=24)
# Each token is read in a few calls; this bound only catches a reading that never ends.
_CALLS = 200_000


@settings(max_examples=300)
@given(tokens=_TOKENS, o_is_zero=st.booleans(), nato=st.booleans())
def test_compose_reads_each_token_at_most_once(
    tokens: list[str], o_is_zero: bool, nato: bool
) -> None:
    """Every piece reads at least one token: never more pieces than tokens."""
    pieces = bounded(lambda: compose(tokens, o_is_zero=o_is_zero, nato=nato), _CALLS)
    assert len(pieces) <= len(tokens)


@settings(max_examples=300)
@given(tokens=_TOKENS, start=st.integers(0, 24), o_is_zero=st.booleans())
def test_digit_run_reads_forward_or_not_at_all(
    tokens: list[str], start: int, o_is_zero: bool
) -> None:
    """A run that reads digits ends past its start, within the tokens; one that reads none
    ends where it started."""
    index = min(start, len(tokens))
    digits, end = bounded(lambda: digit_run(tokens, index, o_is_zero=o_is_zero), _CALLS)
    assert (index < end <= len(tokens)) if digits else end == index
