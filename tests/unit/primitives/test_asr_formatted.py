"""What formatting ASRs hand over, and what they mishear, read as the caller meant it.

Each row is one hypothesis as Whisper-style recognisers write it (numerals, commas, hyphens,
capitals, a full stop) through the primitive's ``read``; the ordinary words that look like
such output keep reading as before.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests._cases import cases
from voicecore.primitives import builtin_primitives

PRIMITIVES: dict[str, Any] = {p.name: p for p in builtin_primitives()}


# A fixed caller's today, so a date's year never depends on the clock the test runs by.
_TODAY = date(2026, 12, 2)
_NEXT_MARCH_5TH = "2027-03-05"


def reading_of(objective_type: str, text: str) -> Any:
    primitive = PRIMITIVES[objective_type]
    extra = {"reference_date": _TODAY} if objective_type == "capture_date" else {}
    params = primitive.params_model.model_validate({"transcription": text, **extra})
    return primitive.read(text, params, None)


def value_of(objective_type: str, text: str) -> str | None:
    value: str | None = reading_of(objective_type, text).value
    return value


FORMATTED = [
    ("capture_phone", "6, 1, 7, double 5, 5, 0, 1, 2, 3.", "+16175550123"),
    ("capture_phone", "My number is 415-555-0182.", "+14155550182"),
    ("capture_phone", "It's 4, 1, 5, 5, 5, 5, 0, 1, 8, 2.", "+14155550182"),
    ("capture_phone", "1-800-555-0199.", "+18005550199"),
    ("capture_number", "1 million", "1000000"),
    ("capture_number", "About 12 hundred.", "1200"),
    ("capture_number", "It's 1.5 million.", "1500000"),
    ("capture_number", "2 hundred thousand.", "200000"),
    ("capture_number", "3,000.", "3000"),
    ("capture_time", "1230 in the afternoon", "12:30"),
    ("capture_time", "830 in the morning", "08:30"),
    ("capture_time", "3.30 pm", "15:30"),
    ("capture_time", "How about 1145 mm?", "11:45"),
    ("capture_time", "Around for 20 mm.", "04:20"),
    ("capture_time", "Mm, 7.15 mm.", "07:15"),
    ("capture_time", "Let's say 7.45 tonight.", "19:45"),
    ("capture_email", "And my email is Jenny at Yahoo.com.", "jenny@yahoo.com"),
    ("capture_email", "J-E-N-N-Y at Gmail.com.", "jenny@gmail.com"),
    ("capture_name", "C-H-E-N", "Chen"),
    ("capture_name", "B, R-O-W-N.", "Brown"),
    ("capture_name", "It's Chen, C-H-E-N.", "Chen"),
    ("capture_name", "My name is SARAH.", "Sarah"),
    ("capture_digits", "KL-358", "KL358"),
    ("capture_digits", "My code is KL-358.", "KL358"),
    ("capture_phone", "It's a 5-1-2, 4-0-6, 7-3-9-6.", "+15124067396"),
    ("capture_phone", "Okay, yeah, it's 404, 8, 9, 4, 0, 7, 1, 5, thank you.", "+14048940715"),
    ("capture_phone", "The next number in 3, 1, 2, 6, 5, 0, 7, 9, 0, 4.", "+13126507904"),
    ("capture_phone", "My cell is 646, double 919216, thank you.", "+16469919216"),
    ("capture_digits", "Pin is 6-1 double 3-2.", "61332"),
    ("capture_digits", "double 32", "332"),
    ("capture_number", "I think it's 54,000, 500.", "54500"),
    ("capture_number", "2000 5", "2005"),
    ("capture_time", "Oh, a 10 10 o-m.", "10:10"),
    ("capture_time", "5 15pm", "17:15"),
    ("capture_date", "The appointment is on June 24, 20, 26, please.", "2026-06-24"),
    ("capture_date", "July 2 20 26.", "2026-07-02"),
    ("capture_date", "Let's say March 9, 20, 20, 8.", "2028-03-09"),
    ("capture_date", "the 3rd of May 20 30 1", "2031-05-03"),
    ("capture_date", "Let's do May 24, 25.", "2025-05-24"),
    ("capture_date", "July 2 26", "2026-07-02"),
    ("capture_date", "It's the fifth on March 20, 20, 20 pigs.", f"{_NEXT_MARCH_5TH}"),
]

MISHEARD = [
    ("capture_phone", "six one seven ate six seven won two three for", "+16178671234"),
    ("capture_phone", "for one five five five five oh one eight two", "+14155550182"),
    ("capture_digits", "The code is for 5 6 7.", "4567"),
    ("capture_number", "For.", "4"),
    ("capture_number", "To.", "2"),
    ("capture_number", "Ate.", "8"),
    ("capture_number", "Won.", "1"),
    ("capture_email", "My email is jenny and yahoo dot com", "jenny@yahoo.com"),
    ("capture_name", "see h e n", "Chen"),
    ("capture_name", "bee r o w n", "Brown"),
    ("capture_digits", "see are why 5", "CRY5"),
    ("capture_phone", "So my number is to 127424904 thank you.", "+12127424904"),
    ("capture_number", "For hundred seventy-one please.", "471"),
    ("capture_name", "But you at it's Karen.", "Karen"),
    ("capture_digits", "You have the order number is 26018.", "26018"),
    ("capture_name", "You have this is Susan Carter speaking.", "Susan Carter"),
    ("capture_time", "I'm out for 15pm.", "16:15"),
    ("capture_time", "I'd like to 45 in the morning.", "02:45"),
    ("capture_phone", "Okay, it's up to 0, 6, 7, 1, 8, 2, 3, 4, 1.", "+12067182341"),
    ("capture_digits", "tea you 5", "TU5"),
]

# Words that look like the habits above and are no such thing: read as before.
ORDINARY = [
    ("capture_phone", "send it to 415 555 0182", "+14155550182"),
    ("capture_digits", "b for boy 1 2 3", "B123"),
    ("capture_number", "I need for tickets", None),
    ("capture_phone", "account 12345678 thanks", None),
    ("capture_number", "for a hundred", "100"),
    ("capture_name", "what is it", None),
    ("capture_digits", "it's 1 2 3 my code is 4 5 6", "123456"),
    ("capture_digits", "you have the code is a b c", "UABC"),
    ("capture_name", "is it you and", None),
    ("capture_name", "but you at it's", None),
    ("capture_number", "20 4", "204"),
    ("capture_number", "1,500 20", "150020"),
    ("capture_time", "for 10 pm", "22:00"),
    ("capture_time", "from 9 to 17 in the evening", "17:00"),
    ("capture_time", "for 15 minutes at 3 pm", "15:00"),
    ("capture_phone", "send it to 415 555 0182 please", "+14155550182"),
    ("capture_phone", "it's to 555 0182", None),
    ("capture_phone", "it's up to 555 0182", None),
    ("capture_phone", "call 415 then ask for 5550182", None),
    ("capture_number", "five to ten", None),
    ("capture_time", "2024", None),
    ("capture_date", "march twenty twenty", None),
    ("capture_email", "jenny and yahoo", None),
    ("capture_email", "Dotson at gmail dot com", "dotson@gmail.com"),
    ("capture_email", "David Dotley at gmail dot com", "daviddotley@gmail.com"),
    ("capture_name", "Dottie Smith.", "Dottie Smith"),
    ("capture_name", "It's Dotson.", "Dotson"),
    # talk after a carrier is no name: only a carrier that introduces one, and words written
    # as a name (capitalised among lower-case words, no day or month), are read after talk
    ("capture_name", "Honestly it's great.", None),
    ("capture_name", "I know it's late.", None),
    ("capture_name", "Tell her it's done.", None),
    ("capture_name", "Because it's cheaper.", None),
    ("capture_name", "Maybe it's Tuesday.", None),
    ("capture_name", "Ugh, this is annoying.", None),
    ("capture_name", "Look, my account is locked.", None),
    ("capture_name", "Look, my account is Karen.", None),
    ("capture_name", "She says it's fine.", None),
    ("capture_name", "For what it's worth, thanks.", None),
    ("capture_name", "HONESTLY IT'S GREAT.", None),
    ("capture_name", "but you at it's karen", None),
    # letters spelled before a carrier said later are code, not talk
    ("capture_digits", "my code is X Y Z and the number is 42", "XYZ42"),
    ("capture_digits", "B as in boy, the number is 9 9 1", "B991"),
    ("capture_digits", "Confirmation K L M, my code is 5 5 1", "KLM551"),
    ("capture_digits", "G H, the code's 12", "GH12"),
    ("capture_digits", "Bravo, the code is 12", "B12"),
    ("capture_digits", "I have a, the code is 12", "12"),
    # figures after a date that go on into other talk are no year
    ("capture_date", "The appointment is June 12, 30 minutes long.", "2027-06-12"),
    ("capture_date", "May 24, 25 dollars", "2027-05-24"),
    ("capture_date", "July 2, 20 26 people", "2027-07-02"),
    ("capture_date", "July 2, 20, 20, 8 people", "2027-07-02"),
    ("capture_date", "24 June 26 guests", "2027-06-24"),
    # a homophone after a verb is the word, not a digit left out
    ("capture_phone", "You can text it to 312555019 thanks.", None),
    ("capture_phone", "I want to 20 55 50 18 2", None),
    # figures joined across a pause only where nothing but a sign-off follows
    ("capture_number", "Room 1000, 2 guests", None),
    ("capture_number", "2000 5 thank you", "2005"),
]

# Read by a rule for how an ASR misheard or wrote the value: less certain than the value
# said plainly, so it is read back.
GUESSED = [
    ("capture_name", "But you at it's Karen."),
    ("capture_name", "You have this is Susan Carter speaking."),
    ("capture_name", "But you at I'm O\u2019Brien."),
    ("capture_date", "Let's do May 24, 25."),
    ("capture_date", "The appointment is on June 24, 20, 26, please."),
    ("capture_date", "24 June 26"),
    ("capture_date", "Let's say March 9, 20, 20, 8."),
    ("capture_phone", "Okay, it's up to 0, 6, 7, 1, 8, 2, 3, 4, 1."),
    ("capture_time", "I sleep 8 30 hours"),
    ("capture_time", "I'll call back in 10 10 minutes"),
    ("capture_time", "I'll be there to 30 in the afternoon"),
    ("capture_time", "5 15pm"),
    ("capture_time", "How about 1145 mm?"),
    ("capture_number", "I think it's 54,000, 500."),
]


@cases("objective_type, text, expected", FORMATTED)
def test_formatted_text_reads_as_said(objective_type: str, text: str, expected: str) -> None:
    """Numerals, commas, hyphens, capitals and end marks do not change the value."""
    assert value_of(objective_type, text) == expected


@cases("objective_type, text, expected", MISHEARD)
def test_homophones_where_a_value_is_expected(
    objective_type: str, text: str, expected: str
) -> None:
    """Homophones of digits among digits and of letter names in spelling are the value."""
    assert value_of(objective_type, text) == expected


@cases("objective_type, text, expected", ORDINARY)
def test_ordinary_words_read_as_before(
    objective_type: str, text: str, expected: str | None
) -> None:
    """No rule fires on words that only look like a habit ("Dotley" is not guessed)."""
    assert value_of(objective_type, text) == expected


@cases("objective_type, text", GUESSED)
def test_a_value_guessed_from_asr_habits_is_less_certain(objective_type: str, text: str) -> None:
    """A value read past talk, or from figures an ASR may have split, has a certainty below
    a value said plainly (0.8)."""
    reading = reading_of(objective_type, text)
    assert reading.value is not None
    assert reading.certainty < 0.8


@cases("objective_type, text", [("capture_time", "3.30 pm"), ("capture_time", "At 10:10 am.")])
def test_a_clock_written_as_one_stays_certain(objective_type: str, text: str) -> None:
    """Only the guesses are less certain: a clock written whole is as sure as before."""
    assert reading_of(objective_type, text).certainty == 1.0
