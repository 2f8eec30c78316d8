"""The share of a hypothesis' words its reading used (``voicecore.capture._used``)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecore.capture._used import MOST_WORDS, trimming_readings, used_share


def _four_digits(text: str) -> str | None:
    """A value is the text's digits when there are exactly four."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits if len(digits) == 4 else None


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("1234", 1.0),
        ("1 2 3 4", 1.0),
        ("uh, my code is 1234, thank you.", 1.0),  # hesitation, carrier, sign-off
        ("look at that 1234", 0.25),  # three words unexplained, one used
        ("1234 bananas", 0.5),
        ("look 1 2 3 4 here now", 4 / 7),  # "here" ends a sign-off only at the end
        ("look 1 2 3 4 now here", 4 / 6),
        ("", 1.0),
    ],
)
def test_words_the_value_does_not_need_are_unexplained(text: str, share: float) -> None:
    assert used_share(text, _four_digits(text), _four_digits) == pytest.approx(share)


def test_a_reading_that_never_repeats_keeps_every_word() -> None:
    """A value sealed anew at each reading (a card token): nothing can be trimmed."""
    tokens = itertools.count()
    assert used_share("look at that 1234", "token", lambda text: next(tokens)) == 1.0


def test_it_reads_at_most_once_per_word() -> None:
    reads: list[str] = []

    def read(text: str) -> str | None:
        reads.append(text)
        return _four_digits(text)

    text = "well look at that it is 1 2 3 4 and more words after it"
    assert used_share(text, "1234", read) == pytest.approx(4 / 14)  # "well" opens: a carrier
    assert len(reads) <= len(text.split())


def test_trimming_stops_where_the_value_is_first_lost() -> None:
    """ "1 2 3 4 5 6" reads nothing, "1 2 3 4" the value again: the words after the value's
    first loss stay in its run."""
    assert used_share("1 2 3 4 5 6", "1234", _four_digits) == 1.0


def test_a_hypothesis_too_long_to_trim_gets_the_least_share() -> None:
    """Past ``MOST_WORDS`` no reading is made: one word of all, never more than trimming."""
    text = " ".join(["look"] * MOST_WORDS + ["1234"])

    def unread(text: str) -> str | None:
        raise AssertionError("no reading past MOST_WORDS")

    assert used_share(text, "1234", unread) == 1 / (MOST_WORDS + 1)
    shorter = " ".join(["look"] * (MOST_WORDS - 1) + ["1234"])
    assert used_share(shorter, "1234", _four_digits) >= 1 / MOST_WORDS


@given(
    st.lists(
        st.sampled_from(["1", "2", "3", "4", "12", "34", "1234", "look", "uh", "thanks"]),
        max_size=MOST_WORDS + 3,
    )
)
def test_trimming_readings_bounds_the_work(pieces: list[str]) -> None:
    """What the turn counts before reading (``voicecore.capture._turn``) is never less than
    what trimming reads: at most ``trimming_readings`` readings, each shorter than the text."""
    text = " ".join(pieces)
    reads: list[str] = []

    def read(said: str) -> str | None:
        reads.append(said)
        return _four_digits(said)

    used_share(text, _four_digits(text), read)
    assert len(reads) <= trimming_readings(text)
    assert all(len(said) < len(text) for said in reads)


def test_hesitations_carriers_and_sign_offs_are_cut_with_one_reading() -> None:
    reads: list[str] = []

    def read(text: str) -> str | None:
        reads.append(text)
        return _four_digits(text)

    assert used_share("uh my code is 1 2 3 4 thank you", "1234", read) == 1.0
    assert reads == ["1 2 3 4", "2 3 4", "1 2 3"]  # the cut checked, then one stop each side


def test_a_cut_that_reads_another_value_trims_from_the_whole_text() -> None:
    """A reading that needs its carrier: the cut is checked, then trimming starts over."""
    reads: list[str] = []

    def read(text: str) -> str | None:
        reads.append(text)
        return _four_digits(text) if text.startswith("my code") else None

    assert used_share("my code is 1234", "1234", read) == 1.0
    assert reads == ["1234", "code is 1234", "my code is"]
