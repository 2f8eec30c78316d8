"""Properties of spoken numbers, dates and times: round trips and clean readings on any text.

The spoken forms come from generators written here, independent of the parsers: a number,
date or time rendered the way callers say it must be captured back exactly.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from voicecore.primitives.date import CaptureDate, CaptureDateParams
from voicecore.primitives.number import CaptureNumber, CaptureNumberParams
from voicecore.primitives.time import CaptureTime, CaptureTimeParams
from voicecore.spoken.numbers import ordinal

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = [(10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion")]
_SCALES += [(10**6, "million"), (10**3, "thousand")]
_ORDINAL_UNITS = (
    "_ first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()
_MONTHS = (
    "_ january february march april may june july august september october november december"
).split()


def below_hundred(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + (f" {_UNITS[unit]}" if unit else "")


def below_thousand(n: int, with_and: bool = False) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_UNITS[hundreds]} hundred"] if hundreds else []
    if rest:
        words += (["and"] if with_and and hundreds else []) + [below_hundred(rest)]
    return " ".join(words)


def cardinal_words(n: int, with_and: bool = False) -> str:
    """English words for 0 <= n < 10**18, the way a caller reads a number out."""
    if n == 0:
        return "zero"
    words: list[str] = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            words.append(f"{below_thousand(count, with_and)} {name}")
    if n:
        words.append(below_thousand(n, with_and))
    return " ".join(words)


def ordinal_words(n: int) -> str:
    """1..31 as an ordinal ("twenty first", "thirtieth")."""
    if n < 20:
        return _ORDINAL_UNITS[n]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _TENS[tens][:-1] + "ieth"
    return f"{_TENS[tens]} {_ORDINAL_UNITS[unit]}"


# The last word of a cardinal said as an ordinal: the irregular ones, then "-y" -> "-ieth".
_IRREGULAR_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def any_ordinal_words(n: int, with_and: bool = False) -> str:
    """Any 1 <= n < 10**18 as an ordinal: the cardinal with its last word made ordinal
    ("sixtieth", "sixty first", "one hundred and first", "two thousandth")."""
    *head, last = cardinal_words(n, with_and).split()
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


@st.composite
def spoken_years(draw: st.DrawFn, year: int) -> str:
    """A year the ways people say it: "nineteen oh five", "twenty twelve", "two thousand nine"."""
    century, rest = divmod(year, 100)
    forms = [cardinal_words(year)]
    if rest == 0:
        forms.append(f"{below_hundred(century)} hundred")
    elif rest < 10:
        forms.append(f"{below_hundred(century)} oh {_UNITS[rest]}")
    else:
        forms.append(f"{below_hundred(century)} {below_hundred(rest)}")
    if 2000 <= year < 2010:
        forms.append(f"two thousand and {_UNITS[rest]}" if rest else "two thousand")
    return draw(st.sampled_from(forms))


@st.composite
def spoken_dates(draw: st.DrawFn) -> tuple[date, str]:
    """A date and one spoken rendering of it, with the year said."""
    value = draw(st.dates(min_value=date(1200, 1, 1), max_value=date(2999, 12, 31)))
    month, year = _MONTHS[value.month], draw(spoken_years(value.year))
    day = draw(st.sampled_from([ordinal_words(value.day), below_hundred(value.day)]))
    forms = [
        f"{month} {day} {year}",
        f"{month} the {ordinal_words(value.day)} {year}",
        f"the {ordinal_words(value.day)} of {month} {year}",
        f"{ordinal_words(value.day)} of {month} {year}",
        f"{month} {value.day}, {value.year}",
        f"{value.month}/{value.day}/{value.year}",
    ]
    carrier = draw(st.sampled_from(["", "it's ", "uh ", "my birthday is ", "on "]))
    return value, carrier + draw(st.sampled_from(forms))


class TestRoundTrips:
    @given(spoken_dates())
    def test_any_spoken_date_is_captured_back(self, case: tuple[date, str]) -> None:
        """Every valid date rendered as callers say it comes back as the same ISO date."""
        value, text = case
        params = CaptureDateParams(transcription=text, reference_date=date(2024, 6, 15))
        assert CaptureDate().read(text, params, None).value == value.isoformat()

    @given(st.integers(min_value=0, max_value=10**18 - 1), st.booleans())
    def test_any_spoken_integer_is_captured_back(self, number: int, with_and: bool) -> None:
        """Every integer said in words (with or without "and") comes back as its digits."""
        text = cardinal_words(number, with_and)
        assert CaptureNumber().read(text, CaptureNumberParams(transcription=text), None).value == (
            str(number)
        )

    @given(
        st.integers(min_value=0, max_value=10**7),
        st.one_of(st.integers(min_value=0, max_value=99), st.sampled_from(range(10, 100, 10))),
        st.booleans(),
    )
    def test_any_spoken_ordinal_is_read_back(self, high: int, low: int, with_and: bool) -> None:
        """Every ordinal said in words ("sixtieth", "sixty first", "three hundredth") is its
        number; round tens and hundreds, the ones text2num missed, are drawn often."""
        number = high * 100 + low
        assume(number > 0)
        assert ordinal(any_ordinal_words(number, with_and).split()) == number

    @given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
    def test_any_spoken_clock_time_with_am_pm_is_captured_back(
        self, hour: int, minute: int
    ) -> None:
        """ "h mm a m/p m" said in words comes back as the 24-hour HH:MM."""
        half = "a m" if hour < 12 else "p m"
        said_minute = (
            ""
            if minute == 0
            else (f" oh {_UNITS[minute]}" if minute < 10 else f" {below_hundred(minute)}")
        )
        text = f"{below_hundred((hour - 1) % 12 + 1)}{said_minute} {half}"
        reading = CaptureTime().read(text, CaptureTimeParams(transcription=text), None)
        assert reading.value == f"{hour:02d}:{minute:02d}"


_VOCABULARY = (
    _UNITS
    + _TENS[2:]
    + _ORDINAL_UNITS[1:]
    + _MONTHS[1:]
    + "hundred thousand million trillion lakh crore and a an oh o double triple point minus "
    "half quarter past to after of the next last this coming in ago from now today tomorrow "
    "day days week weeks month year monday friday noon midnight am pm p m a o'clock hours "
    "no wait sorry 12 3/5 2024-02-30 99:99 1,000 -7 25th".split()
)
_TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_VOCABULARY), max_size=14).map(" ".join),
)


class TestCleanReadings:
    @given(_TEXTS)
    def test_number_reading_is_clean(self, text: str) -> None:
        """Any text gives a decimal string value, or no value with a reason; nothing raises."""
        reading = CaptureNumber().read(text, CaptureNumberParams(transcription=text), None)
        if reading.value is None:
            assert reading.reason
        else:
            assert str(Decimal(reading.value)) == reading.value or Decimal(reading.value)
            assert "E" not in reading.value

    @given(_TEXTS, st.sampled_from(["future", "past"]))
    def test_date_reading_is_clean(self, text: str, prefer: str) -> None:
        """Any text gives an ISO date, or no value with a reason; nothing raises."""
        params = CaptureDateParams.model_validate(
            {"transcription": text, "reference_date": "2024-06-15", "prefer": prefer}
        )
        reading = CaptureDate().read(text, params, None)
        if reading.value is None:
            assert reading.reason
        else:
            assert date.fromisoformat(reading.value).isoformat() == reading.value

    @given(_TEXTS)
    def test_time_reading_is_clean(self, text: str) -> None:
        """Any text gives HH:MM on a 24-hour clock, or no value with a reason; nothing raises."""
        reading = CaptureTime().read(text, CaptureTimeParams(transcription=text), None)
        if reading.value is None:
            assert reading.reason
        else:
            assert re.fullmatch(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]", reading.value)

    @given(st.dates(), _TEXTS)
    def test_dates_near_the_calendar_edges_do_not_raise(self, today: date, text: str) -> None:
        """Relative dates from year 1 or 9999 give no value rather than an overflow."""
        params = CaptureDateParams(transcription=text, reference_date=today)
        reading = CaptureDate().read(text, params, None)
        assert reading.value is not None or reading.reason
