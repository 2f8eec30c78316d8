"""Round trips through what formatting ASRs write: a valid value, rendered the way Whisper-style
recognisers render speech (numerals for number words, commas, hyphens, capitals, a full stop),
is captured back exactly."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.property.test_spoken_email_phone_digits import us_numbers
from tests.property.test_spoken_numbers_dates import below_thousand, cardinal_words, ordinal_words
from voicecore.primitives import builtin_primitives
from voicecore.primitives.name import capitalised
from voicecore.spoken.letters import _AMBIGUOUS_NAMES, _LETTER_NAMES
from voicecore.spoken.number_words import DIGIT_NAMES

PRIMITIVES: dict[str, Any] = {p.name: p for p in builtin_primitives()}
END_MARKS = st.sampled_from(["", ".", "?", "!", "..."])
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def read(objective_type: str, text: str) -> str | None:
    primitive = PRIMITIVES[objective_type]
    params = primitive.params_model.model_validate({"transcription": text})
    value: str | None = primitive.read(text, params, None).value
    return value


def sentence(data: st.DataObject, carriers: list[str], value: str) -> str:
    """``value`` in a sentence as an ASR writes it: an opening, the value, an end mark."""
    return data.draw(st.sampled_from(carriers)) + value + data.draw(END_MARKS)


@given(st.data())
def test_formatted_phone_is_captured_back(data: st.DataObject) -> None:
    """Hyphenated, bracketed, grouped or comma-separated digits with "double" give the number."""
    number = data.draw(us_numbers())
    area, exchange, line = number[2:5], number[5:8], number[8:]
    digits = [*number[2:]]
    styles = [
        f"{area}-{exchange}-{line}",
        f"({area}) {exchange}-{line}",
        f"{area} {exchange} {line}",
        ", ".join(digits),
        ", ".join(_doubled(digits)),
    ]
    written = data.draw(st.sampled_from(styles))
    text = sentence(data, ["", "My number is ", "It's ", "Sure, it's "], written)
    assert read("capture_phone", text) == number


def _doubled(digits: list[str]) -> list[str]:
    """Repeated digits as "double 5", the way a caller says them and an ASR writes them."""
    said: list[str] = []
    index = 0
    while index < len(digits):
        if digits[index + 1 : index + 2] == [digits[index]]:
            said.append(f"double {digits[index]}")
            index += 2
        else:
            said.append(digits[index])
            index += 1
    return said


@given(
    st.data(),
    st.integers(1, 999),
    st.sampled_from([("hundred", 100), ("thousand", 1000), ("million", 10**6)]),
)
def test_figure_with_scale_word_is_captured_back(
    data: st.DataObject, figure: int, scale: tuple[str, int]
) -> None:
    """ "12 hundred", "1 million", "250 thousand" are the figure times the scale."""
    word, times = scale
    text = sentence(data, ["", "About ", "It's ", "Maybe "], f"{figure} {word}")
    assert read("capture_number", text) == str(figure * times)


@given(st.data(), st.integers(1, 99), st.sampled_from([("thousand", 1000), ("million", 10**6)]))
def test_decimal_figure_with_scale_word_is_captured_back(
    data: st.DataObject, tenths: int, scale: tuple[str, int]
) -> None:
    """ "1.5 million" is one and a half million."""
    word, times = scale
    figure = f"{tenths // 10}.{tenths % 10}"
    text = sentence(data, ["", "About "], f"{figure} {word}")
    assert read("capture_number", text) == str(tenths * times // 10)


_GROUP_SCALES = [(10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion")]
_GROUP_SCALES += [(10**6, "million"), (10**3, "thousand")]


@st.composite
def group_written(draw: st.DrawFn, count: int) -> str:
    """A group below a thousand as a formatting ASR may write it: "250", "two hundred and
    fifty", "2 hundred 50", "2 hundred and fifty"."""
    hundreds, rest = divmod(count, 100)
    styles = [str(count), below_thousand(count, draw(st.booleans()))]
    if hundreds:
        joint = draw(st.sampled_from([" ", " and "]))
        tail = draw(st.sampled_from([str(rest), below_thousand(rest)])) if rest else ""
        styles.append(f"{hundreds} hundred" + (joint + tail if rest else ""))
    return draw(st.sampled_from(styles))


@st.composite
def mixed_figures(draw: st.DrawFn, number: int) -> str:
    """``number`` (1 <= number < 10**18) in figures and scale words, group by group ("1
    million 200 thousand"), or in hundreds when it has four digits ("12 hundred and fifty")."""
    if 1100 <= number < 10_000 and number % 1000 >= 100 and draw(st.booleans()):
        hundreds, rest = divmod(number, 100)
        tail = f"{draw(st.sampled_from(['', 'and ']))}{rest}" if rest else ""
        return f"{hundreds} hundred {tail}".strip()
    words: list[str] = []
    for scale, name in _GROUP_SCALES:
        count, number = divmod(number, scale)
        if count:
            words.append(f"{draw(group_written(count))} {name}")
    if number:
        words.append(draw(group_written(number)))
    return " ".join(words)


@given(st.data(), st.integers(1, 10**18 - 1))
def test_figures_among_scale_words_are_captured_back(data: st.DataObject, number: int) -> None:
    """ "1 million 200 thousand", "12 hundred and fifty", "2 hundred 5 thousand 30": each
    group a figure or words, read back exactly as the whole number."""
    text = sentence(data, ["", "About ", "It's "], data.draw(mixed_figures(number)))
    assert read("capture_number", text) == str(number)


@given(
    st.data(),
    st.integers(0, 999),
    st.text("0123456789", min_size=1, max_size=4),
    st.sampled_from([("hundred", 2), ("thousand", 3), ("million", 6), ("billion", 9)]),
)
def test_decimal_among_scale_words_is_captured_back(
    data: st.DataObject, whole: int, decimals: str, scale: tuple[str, int]
) -> None:
    """ "3.5 million", "3 point 5 million", "three point five million" read back exactly."""
    word, exponent = scale
    said_decimals = data.draw(
        st.sampled_from(
            [decimals, " ".join(decimals), " ".join(DIGIT_NAMES[int(d)] for d in decimals)]
        )
    )
    said_whole = data.draw(st.sampled_from([str(whole), below_thousand(whole) or "zero"]))
    written = data.draw(
        st.sampled_from([f"{whole}.{decimals}", f"{said_whole} point {said_decimals}"])
    )
    text = sentence(data, ["", "About ", "It's "], f"{written} {word}")
    digits = str(int(f"{whole}{decimals}") * 10**exponent).rjust(len(decimals) + 1, "0")
    head, tail = digits[: -len(decimals)], digits[-len(decimals) :].rstrip("0")
    assert read("capture_number", text) == head + (f".{tail}" if tail else "")


@given(st.data(), st.integers(0, 11), st.integers(0, 59))
def test_a_morning_time_with_am_written_mm_is_captured_back(
    data: st.DataObject, hour: int, minute: int
) -> None:
    """ "140 mm", "9.15 mm": "a m" said quickly and written "mm" after the figures gives
    the morning time, less certain than with "am"."""
    twelve = hour % 12 or 12
    figures = data.draw(
        st.sampled_from(
            [f"{twelve}{minute:02d}", f"{twelve}.{minute:02d}", f"{twelve}:{minute:02d}"]
        )
    )
    text = sentence(data, ["", "At ", "Let's say ", "How about "], f"{figures} mm")
    primitive = PRIMITIVES["capture_time"]
    params = primitive.params_model.model_validate({"transcription": text})
    reading = primitive.read(text, params, None)
    assert reading.value == f"{hour:02d}:{minute:02d}", text
    plain = text.replace(" mm", " am")
    assert reading.certainty < primitive.read(plain, params, None).certainty


@given(st.data(), st.integers(0, 23), st.integers(0, 59))
def test_formatted_time_is_captured_back(data: st.DataObject, hour: int, minute: int) -> None:
    """ "830 in the morning", "1230 in the afternoon", "3.30 pm", "3:30 PM" give the time."""
    twelve = hour % 12 or 12
    meridiem = "am" if hour < 12 else "pm"
    period = {"am": "in the morning", "pm": "in the afternoon" if hour < 17 else "in the evening"}
    if hour == 0:  # "1230 in the morning" is said of midnight too rarely to be a rule
        period["am"] = "am"
    styles = [
        f"{twelve}{minute:02d} {period[meridiem]}",
        f"{twelve}.{minute:02d} {data.draw(st.sampled_from([meridiem, meridiem.upper()]))}",
        f"{twelve}:{minute:02d} {meridiem.upper()}",
        f"{twelve}.{minute:02d} {'a.m.' if meridiem == 'am' else 'p.m.'}",
    ]
    text = sentence(data, ["", "At ", "Let's say "], data.draw(st.sampled_from(styles)))
    assert read("capture_time", text) == f"{hour:02d}:{minute:02d}"


@given(st.data(), st.text(UPPER, min_size=2, max_size=8))
def test_hyphen_spelled_name_is_captured_back(data: st.DataObject, letters: str) -> None:
    """ "C-H-E-N", "B, R-O-W-N", "Chen, C-H-E-N." give the name, capitalised."""
    name = capitalised(letters.lower())
    styles = [
        "-".join(letters),
        f"{letters[0]}, {'-'.join(letters[1:])}" if len(letters) > 2 else "-".join(letters),
    ]
    # A name that is itself a letter's name ("Be", "Em") said before its spelling reads as one
    # more spelled letter; such names are only spelled here.
    if letters.lower() not in _LETTER_NAMES and letters.lower() not in _AMBIGUOUS_NAMES:
        styles.append(f"{name}, {'-'.join(letters)}")
    text = sentence(data, ["", "It's ", "My name is "], data.draw(st.sampled_from(styles)))
    assert read("capture_name", text) == name


@given(
    st.data(),
    st.text(UPPER.replace("O", ""), min_size=1, max_size=3),
    st.text("0123456789", min_size=2, max_size=6),
)
def test_written_code_is_captured_back(data: st.DataObject, letters: str, digits: str) -> None:
    """ "KL-358" gives the code, whatever the case and the end mark."""
    written = data.draw(st.sampled_from([f"{letters}-{digits}", f"{letters}{digits}"]))
    cased = data.draw(st.sampled_from([written, written.lower()]))
    text = sentence(data, ["", "My code is ", "It's "], cased)
    assert read("capture_digits", text) == letters + digits


@given(
    st.data(),
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10),
    st.sampled_from(["gmail", "yahoo", "outlook", "hotmail"]),
)
def test_capitalised_email_after_a_carrier_is_captured_back(
    data: st.DataObject, local: str, provider: str
) -> None:
    """ "And my email is Jenny at Yahoo.com." gives jenny@yahoo.com: the carrier is no part.

    A local part the reader hears as something else said plain ("dot", "ten", "bee", "yes":
    a symbol, a number, a letter name, an answer) is left out: that reading is the email
    reader's, tested with it; here only the case, carrier and written domain vary."""
    assume(read("capture_email", f"{local} at {provider} dot com") == f"{local}@{provider}.com")
    written = f"{local.capitalize()} at {provider.capitalize()}.com"
    carriers = ["", "And my email is ", "Yes, it's ", "Sure, my email is ", "And it's "]
    text = sentence(data, carriers, written)
    assert read("capture_email", text) == f"{local}@{provider}.com"


_HOMOPHONES_OF = {"1": "won", "2": "to", "4": "for", "8": "ate"}


@given(st.data())
def test_digits_heard_as_homophones_are_captured_back(data: st.DataObject) -> None:
    """A number said digit by digit, with any 1, 2, 4, 8 written as "won", "to", "for", "ate",
    after any carrier, is captured back."""
    number = data.draw(us_numbers())
    said = [
        data.draw(
            st.sampled_from([DIGIT_NAMES[int(d)], _HOMOPHONES_OF.get(d, DIGIT_NAMES[int(d)])])
        )
        for d in number[2:]
    ]
    text = sentence(data, ["", "My number is ", "It's ", "Okay, "], " ".join(said))
    assert read("capture_phone", text) == number


_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def read_date(text: str, today: date, prefer: str = "future") -> str | None:
    primitive = PRIMITIVES["capture_date"]
    params = primitive.params_model.model_validate(
        {"transcription": text, "reference_date": today.isoformat(), "prefer": prefer}
    )
    value: str | None = primitive.read(text, params, None).value
    return value


@given(st.data(), st.dates(date(1010, 1, 1), date(2999, 12, 31)), st.dates())
def test_year_written_as_two_pairs_is_captured_back(
    data: st.DataObject, day: date, today: date
) -> None:
    """ "June 24, 20, 26": a day as a figure and a year said as two pairs ("twenty twenty
    six") written as two figures give the date, whatever the reference date."""
    assume(day.year // 100 >= 10)
    joint = data.draw(st.sampled_from([", ", " "]))
    halves = f"{day.year // 100}{joint}{day.year % 100:02d}"
    written = f"{_MONTH_NAMES[day.month - 1]} {day.day}, {halves}"
    text = sentence(data, ["", "It's ", "Let's do ", "The appointment is on "], written)
    assert read_date(text, today) == day.isoformat()


@given(st.data(), st.dates(date(1020, 1, 1), date(2999, 12, 31)), st.dates())
def test_year_with_its_second_pair_split_is_captured_back(
    data: st.DataObject, day: date, today: date
) -> None:
    """ "August 1, 20, 20, 7": a year said "twenty twenty seven" written word by word, the
    tens and unit of its second pair as two figures, gives the date."""
    low = day.year % 100
    assume(day.year // 100 >= 10 and low > 20 and low % 10)
    joint = data.draw(st.sampled_from([", ", " "]))
    figures = joint.join([str(day.year // 100), str(low - low % 10), str(low % 10)])
    written = f"{_MONTH_NAMES[day.month - 1]} {day.day}, {figures}"
    text = sentence(data, ["", "It's ", "Let's do "], written)
    assert read_date(text, today) == day.isoformat(), text


@given(
    st.data(), st.dates(date(2001, 1, 1), date(2098, 12, 31)), st.sampled_from(["future", "past"])
)
def test_two_digit_year_after_a_figure_day_is_captured_back(
    data: st.DataObject, today: date, prefer: str
) -> None:
    """ "May 24, 25": a day written as a figure (the ASR dropped "twenty fourth"'s suffix)
    and a two-digit year from 20 to 99 read as "May twenty fourth twenty five" does."""
    month, day = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 28))
    short = data.draw(st.integers(20, 99))
    written = f"{_MONTH_NAMES[month - 1]} {day}, {short}"
    spoken = f"{_MONTH_NAMES[month - 1].lower()} {ordinal_words(day)} {cardinal_words(short)}"
    text = sentence(data, ["", "It's ", "Let's do "], written)
    expected = read_date(spoken, today, prefer)
    assert expected is not None and expected.endswith(f"-{month:02d}-{day:02d}")
    assert read_date(text, today, prefer) == expected


# Words an ASR writes around a number that no carrier or sign-off list knows: a "uh" heard as
# "a", "is" heard as "in", an opening heard as other words. None is a digit or a homophone.
_TALK = ["a", "so", "the", "next", "in", "yeah", "okay", "well", "my", "cell", "best", "it's"]
_AFTER = ["", " thank you", " thanks", ", please", ". Thank you", " bye"]


@given(st.data())
def test_phone_among_unknown_words_is_captured_back(data: st.DataObject) -> None:
    """ "It's a 5-1-2, 4-0-6, 7-3-9-6.", "The next number in 3, 1, 2, ... thank you": a
    written number in one stretch, with any talk before it and a sign-off after it."""
    number = data.draw(us_numbers())
    area, exchange, line = number[2:5], number[5:8], number[8:]
    styles = [
        f"{'-'.join(area)}, {'-'.join(exchange)}, {'-'.join(line)}",
        ", ".join(number[2:]),
        f"{area}, {', '.join(number[5:])}",
    ]
    talk = " ".join(data.draw(st.lists(st.sampled_from(_TALK), min_size=1, max_size=5)))
    written, after = data.draw(st.sampled_from(styles)), data.draw(st.sampled_from(_AFTER))
    text = f"{talk.capitalize()} {written}{after}"
    assert read("capture_phone", text) == number


@given(st.data())
def test_double_before_a_joined_figure_is_captured_back(data: st.DataObject) -> None:
    """ "646, double 919216": the digits said after "double nine" written as one figure (or
    grouped by hyphens): the figure's first digit is the one doubled.

    A figure of seven digits or more is a written number of its own (a US local number is
    seven digits), which the phone reader takes as written: not varied here."""
    number = data.draw(us_numbers())
    digits = [*number[2:]]
    pairs = [i for i in range(3, len(digits) - 1) if digits[i] == digits[i + 1]]
    assume(pairs)
    at = data.draw(st.sampled_from(pairs))
    joint = data.draw(st.sampled_from(["", "-"]))
    written = ", ".join([*digits[:at], f"double {joint.join(digits[at + 1 :])}"])
    text = sentence(data, ["", "My cell is ", "It's "], written)
    assert read("capture_phone", text) == number
    code = "".join(digits)
    assert read("capture_digits", sentence(data, ["", "The code is "], written)) == code


@given(st.data())
def test_homophone_before_the_rest_as_a_figure_is_captured_back(data: st.DataObject) -> None:
    """ "So my number is to 127424904": the first digit heard as a homophone and the rest
    written as one figure (or digits); read so only because the rest alone is no number."""
    number = data.draw(us_numbers())
    first = number[2]
    assume(first in _HOMOPHONES_OF)
    rest = number[3:]
    written = data.draw(st.sampled_from([rest, ", ".join(rest)]))
    carrier = data.draw(st.sampled_from(["So my number is ", "It's ", "Okay, it's up "]))
    text = f"{carrier}{_HOMOPHONES_OF[first]} {written}{data.draw(st.sampled_from(_AFTER))}"
    assert read("capture_phone", text) == number


@given(st.data())
def test_a_homophone_after_a_verb_is_the_word(data: st.DataObject) -> None:
    """ "You can text it to 312555019 thanks.", "I want to 20 55 50 18 2": "to", "for" after
    a verb are the words, not a digit the caller left out; no number is made of them."""
    number = data.draw(us_numbers())
    first = number[2]
    assume(first in _HOMOPHONES_OF)
    rest = number[3:]
    written = data.draw(st.sampled_from([rest, ", ".join(rest), f"{rest[:2]} {rest[2:]}"]))
    talk = data.draw(
        st.sampled_from(["You can text it ", "I want ", "Send the code ", "Remind me "])
    )
    text = f"{talk}{_HOMOPHONES_OF[first]} {written}{data.draw(st.sampled_from(_AFTER))}"
    assert read("capture_phone", text) != number


@given(st.data(), st.integers(1, 999_999), st.integers(1, 999))
def test_thousands_and_the_rest_as_two_figures_are_captured_back(
    data: st.DataObject, thousands: int, rest: int
) -> None:
    """ "54,000, 500": "fifty four thousand, five hundred" split by the ASR at the pause
    into two figures is the sum, as the words are."""
    written = data.draw(st.sampled_from([f"{thousands * 1000:,}", str(thousands * 1000)]))
    joint = data.draw(st.sampled_from([", ", " "]))
    text = sentence(data, ["", "I think it's ", "About "], f"{written}{joint}{rest}")
    assert read("capture_number", text) == str(thousands * 1000 + rest)


_DIGIT_OF_HOMOPHONE = {word: int(digit) for digit, word in _HOMOPHONES_OF.items()}


@given(st.data(), st.sampled_from(sorted(_DIGIT_OF_HOMOPHONE)), st.integers(0, 99))
def test_homophone_before_hundred_is_captured_back(
    data: st.DataObject, homophone: str, rest: int
) -> None:
    """ "For hundred seventy-one": a digit heard as its homophone before "hundred"."""
    said = f"{homophone} hundred" + (f" {below_thousand(rest)}" if rest else "")
    text = sentence(data, ["", "It's ", "About "], said.capitalize())
    assert read("capture_number", text) == str(_DIGIT_OF_HOMOPHONE[homophone] * 100 + rest)


@given(
    st.data(),
    st.sampled_from(sorted(_DIGIT_OF_HOMOPHONE)),
    st.integers(13, 59),
    st.sampled_from(["am", "pm"]),
)
def test_hour_heard_as_homophone_is_captured_back(
    data: st.DataObject, homophone: str, minute: int, meridiem: str
) -> None:
    """ "for 15pm", "to 45 in the morning": the hour heard as a homophone before minutes
    that cannot be an hour themselves."""
    hour = _DIGIT_OF_HOMOPHONE[homophone]
    said = data.draw(
        st.sampled_from(
            [
                f"{minute}{meridiem}",
                f"{minute} {meridiem}",
                f"{minute} {'p.m.' if meridiem == 'pm' else 'a.m.'}",
                f"{minute} {'in the evening' if meridiem == 'pm' else 'in the morning'}",
            ]
        )
    )
    text = sentence(data, ["", "I'd like ", "How about ", "I'm out "], f"{homophone} {said}")
    expected = hour % 12 + (12 if meridiem == "pm" else 0)
    assert read("capture_time", text) == f"{expected:02d}:{minute:02d}"


@given(st.data(), st.integers(0, 23), st.integers(0, 59))
def test_hour_and_minutes_as_two_figures_are_captured_back(
    data: st.DataObject, hour: int, minute: int
) -> None:
    """ "10 10 am", "5 15pm": "ten ten a m" with each number written as a figure."""
    twelve = hour % 12 or 12
    meridiem = "am" if hour < 12 else "pm"
    said = data.draw(st.sampled_from([f"{minute:02d}{meridiem}", f"{minute:02d} {meridiem}"]))
    text = sentence(data, ["", "At ", "Let's say "], f"{twelve} {said}")
    assert read("capture_time", text) == f"{hour:02d}:{minute:02d}"


@given(st.data(), st.integers(1, 12), st.integers(10, 59))
def test_figures_read_as_a_clock_are_read_back(data: st.DataObject, hour: int, minute: int) -> None:
    """ "I sleep 8 30 hours", "in 10 10 minutes": two figures read as a clock may be talk, so
    such a reading is never certain enough to stand without a readback."""
    talk = data.draw(st.sampled_from(["I sleep ", "Call back in ", "", "About "]))
    after = data.draw(st.sampled_from([" hours", " minutes", "", " in the morning"]))
    text = f"{talk}{hour} {minute}{after}."
    primitive = PRIMITIVES["capture_time"]
    params = primitive.params_model.model_validate({"transcription": text})
    assert primitive.read(text, params, None).certainty < 0.8


@given(st.data(), st.integers(1, 999), st.integers(1, 999))
def test_figures_that_go_on_into_talk_are_not_joined(
    data: st.DataObject, thousands: int, rest: int
) -> None:
    """ "Room 1000, 2 guests": a figure after a round thousand is joined to it as one number
    said across a pause only at the end, not where other talk follows it."""
    talk = data.draw(st.sampled_from(["guests", "people", "nights", "of them", "minutes"]))
    text = f"Room {thousands * 1000}, {rest} {talk}."
    assert read("capture_number", text) != str(thousands * 1000 + rest)


_SIGN_OFF_WORDS = {
    "thanks",
    "please",
    "okay",
    "ok",
    "bye",
    "goodbye",
    "speaking",
    "calling",
    "here",
}
_WORD_OPENINGS = ["but", "at", "have", "so", "and", "the", "well", "in", "up"]
_OPENINGS = ["but", "you", "at", "have", "so", "and", "the", "well", "a", "in", "up"]


@given(
    st.data(),
    st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8), min_size=1, max_size=2),
)
def test_name_after_a_misheard_opening_is_captured_back(
    data: st.DataObject, parts: list[str]
) -> None:
    """ "But you at it's Karen.", "You have this is Susan Carter speaking.": the opening
    misheard, the carrier still says where the name starts. A name that is a sign-off word
    ("Thanks", "Here") is read as a sign-off after other words, and an opening of letter
    names ("you a") as a spelling, which wins over words: not varied here."""
    name = " ".join(parts)
    assume(not _SIGN_OFF_WORDS.intersection(parts))
    assume(read("capture_name", f"my name is {name}") == capitalised(name))
    opening = " ".join(data.draw(st.lists(st.sampled_from(_WORD_OPENINGS), min_size=1, max_size=4)))
    carrier = data.draw(st.sampled_from(["it's", "this is", "my name is", "the name is"]))
    after = data.draw(st.sampled_from(["", " speaking", ", thank you"]))
    text = f"{opening.capitalize()} {carrier} {capitalised(name)}{after}."
    assert read("capture_name", text) == capitalised(name)


# No "the" or "my": "the ... is" is itself a carrier ("the name is"), stripped where it opens;
# no "so", "and" or "but": they open an answer ("but my name is ..."), as "yeah" does.
_TALK_OPENINGS = ["at", "have", "in", "up", "honestly", "look", "maybe"]


@given(st.data(), st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8))
def test_talk_after_a_carrier_names_no_one(data: st.DataObject, word: str) -> None:
    """ "Honestly it's great.", "Look, my account is locked.": a word after talk and a
    carrier that may introduce anything, written in lower case, is no name."""
    opening = " ".join(data.draw(st.lists(st.sampled_from(_TALK_OPENINGS), min_size=1, max_size=3)))
    carrier = data.draw(st.sampled_from(["it's", "this is", "i'm", "that's", "my account is"]))
    after = data.draw(st.sampled_from(["", ", thanks", " then"]))
    text = f"{opening.capitalize()}, {carrier} {word}{after}."
    assert read("capture_name", text) is None


@given(st.data(), st.text("0123456789", min_size=3, max_size=8))
def test_code_after_a_misheard_opening_is_captured_back(data: st.DataObject, code: str) -> None:
    """ "You have the order number is 26018.": words with no digit before a carrier are talk,
    not letters of the code ("you" is no U there)."""
    opening = " ".join(data.draw(st.lists(st.sampled_from(_OPENINGS), min_size=1, max_size=4)))
    carrier = data.draw(
        st.sampled_from(["the order number is", "the code is", "my zip code is", "it's"])
    )
    written = data.draw(
        st.sampled_from([code, "-".join(code), ", ".join(DIGIT_NAMES[int(d)] for d in code)])
    )
    text = f"{opening.capitalize()} {carrier} {written}{data.draw(st.sampled_from(_AFTER))}."
    assert read("capture_digits", text) == code


@given(
    st.data(),
    st.text("BCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=3),
    st.text("0123456789", min_size=2, max_size=6),
)
def test_letters_before_a_later_carrier_stay_in_the_code(
    data: st.DataObject, letters: str, digits: str
) -> None:
    """ "Confirmation K L M, my code is 5 5 1", "my code is X Y Z and the number is 42": letters
    spelled before a carrier said later are code, not talk ("O", "A" and "I" are words or
    zeros too: not varied here)."""
    spelled = data.draw(
        st.sampled_from([" ".join(letters), "-".join(letters), f"{letters[0]} as in {letters[0]}x"])
    )
    written = data.draw(st.sampled_from([digits, " ".join(digits)]))
    carrier = data.draw(st.sampled_from(["the number is", "my code is", "the code's"]))
    opening = data.draw(st.sampled_from(["", "Confirmation ", "My code is "]))
    text = f"{opening}{spelled}, {carrier} {written}."
    expected = (letters if "as in" not in spelled else letters[0]) + digits
    assert read("capture_digits", text) == expected


@given(
    st.data(),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
)
def test_figures_after_a_date_that_go_on_are_no_year(
    data: st.DataObject, day: date, today: date
) -> None:
    """ "The appointment is June 12, 30 minutes long.", "May 24, 25 dollars": figures after a
    date that go on into other talk are no year (as "20, 26, please" at the end is one)."""
    pairs = [f"{day.year % 100:02d}"]
    if day.year // 100 == 20:
        pairs = data.draw(st.sampled_from([pairs, ["20", pairs[0]]]))
    talk = data.draw(st.sampled_from(["minutes long", "dollars", "people", "guests", "of us"]))
    written = f"{_MONTH_NAMES[day.month - 1].capitalize()} {day.day}, {', '.join(pairs)} {talk}"
    text = sentence(data, ["", "The appointment is ", "I was born "], written)
    assert read_date(text, today) != day.isoformat() or day.year == _year_of_day(day, today)


def _year_of_day(day: date, today: date) -> int:
    """The year "Month D" alone resolves to after ``today`` (the future side)."""
    this_year = _replaced_year(day, today.year)
    return today.year if this_year is None or this_year >= today else today.year + 1


def _replaced_year(day: date, year: int) -> date | None:
    try:
        return day.replace(year=year)
    except ValueError:  # February 29th in a year that has none
        return None


@given(st.data(), st.dates(date(1900, 1, 1), date(2099, 12, 31)), st.dates())
def test_day_on_month_is_captured_back(data: st.DataObject, day: date, today: date) -> None:
    """ "the fifth on March 2026": "on" written for the "of" between a day and its month."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10 if day.day // 10 != 1 else 0, "th")
    said = data.draw(st.sampled_from([ordinal_words(day.day), f"{day.day}{suffix}"]))
    written = f"the {said} on {_MONTH_NAMES[day.month - 1]} {day.year}"
    text = sentence(data, ["", "It's ", "Let's do "], written)
    assert read_date(text, today) == day.isoformat()
