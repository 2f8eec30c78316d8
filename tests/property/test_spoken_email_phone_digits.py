"""Round trips through the spoken form: a value, said the way a caller says it, is captured
back exactly; and no text makes a capture primitive raise."""

from __future__ import annotations

from typing import Any

import phonenumbers
from hypothesis import assume, given
from hypothesis import strategies as st

from tests._replies import held_value, reply_of
from voicecore.capture import CaptureParams, CapturePrimitive
from voicecore.primitives.digits import CaptureDigits, CaptureDigitsParams
from voicecore.primitives.email import CaptureEmail, CaptureEmailParams
from voicecore.primitives.name import CaptureName
from voicecore.primitives.phone import CapturePhone, CapturePhoneParams
from voicecore.spoken.letters import NATO
from voicecore.spoken.number_words import DIGIT_NAMES

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_NATO_OF = {letter: word for word, letter in NATO.items() if word.isalpha()}
_SYMBOL_WORDS = {".": "dot", "_": "underscore", "-": "dash"}
_AREA_CODES = ("212", "415", "617", "312", "202", "305", "713", "206", "303", "404", "512")


@st.composite
def local_parts(draw: st.DrawFn) -> str:
    """Local parts of letters and digits with single . _ - between runs."""
    runs = draw(
        st.lists(st.text(_LETTERS + "0123456789", min_size=1, max_size=6), min_size=1, max_size=3)
    )
    separators = draw(
        st.lists(st.sampled_from("._-"), min_size=len(runs) - 1, max_size=len(runs) - 1)
    )
    local = runs[0]
    for separator, run in zip(separators, runs[1:], strict=True):
        local += separator + run
    return local


@st.composite
def emails(draw: st.DrawFn) -> str:
    """Valid lower-case addresses: a local part, one or two labels and a common TLD."""
    labels = draw(st.lists(st.text(_LETTERS, min_size=2, max_size=8), min_size=1, max_size=2))
    tld = draw(st.sampled_from(["com", "net", "org", "edu", "io", "co"]))
    return f"{draw(local_parts())}@{'.'.join(labels)}.{tld}"


def _say_digit(data: st.DataObject, digit: str) -> str:
    if digit == "0":
        return data.draw(st.sampled_from(["zero", "oh"]))
    return DIGIT_NAMES[int(digit)]


def _say_spelled(data: st.DataObject, text: str) -> list[str]:
    said: list[str] = []
    for char in text:
        if char.isdigit():
            said.append(DIGIT_NAMES[int(char)])
        elif char in _SYMBOL_WORDS:
            said.append(_SYMBOL_WORDS[char])
        else:
            said.append(char)
    return said


def say_email(data: st.DataObject, address: str) -> str:
    """Spell the local part, spell the domain labels, say the top-level domain as a word."""
    local, _, domain = address.partition("@")
    *labels, tld = domain.split(".")
    said = _say_spelled(data, local) + ["at"]
    for label in labels:
        said += _say_spelled(data, label) + ["dot"]
    carrier = data.draw(st.sampled_from(["", "my email is ", "it's ", "uh "]))
    return carrier + " ".join([*said, tld])


def say_digit_string(data: st.DataObject, digits: str) -> list[str]:
    """Digits one by one, with "oh" for zero and "double"/"triple" for repeats."""
    said: list[str] = []
    index = 0
    while index < len(digits):
        digit = digits[index]
        repeat = len(digits[index:]) - len(digits[index:].lstrip(digit))
        if repeat >= 2 and data.draw(st.booleans()):
            count = min(repeat, 3)
            said += ["double" if count == 2 else "triple", DIGIT_NAMES[int(digit)]]
            index += count
            continue
        said.append(_say_digit(data, digit))
        index += 1
    return said


@st.composite
def us_numbers(draw: st.DrawFn) -> str:
    """Valid US numbers in E.164."""
    exchange = draw(st.from_regex(r"[2-9][0-9]{2}", fullmatch=True))
    line = draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    number = f"+1{draw(st.sampled_from(_AREA_CODES))}{exchange}{line}"
    assume(phonenumbers.is_valid_number(phonenumbers.parse(number)))
    return number


@st.composite
def codes(draw: st.DrawFn) -> str:
    """Codes of upper-case letters and digits."""
    return draw(st.text("ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789O", min_size=1, max_size=12))


def say_code(data: st.DataObject, code: str) -> str:
    """Letters as letters or NATO words ("O" always "o as in oscar"), digits as words."""
    said: list[str] = []
    for char in code:
        if char.isdigit():
            said.append(DIGIT_NAMES[int(char)])
        elif char == "O":
            said += ["o", "as", "in", "oscar"]
        else:
            said.append(data.draw(st.sampled_from([char.lower(), _NATO_OF[char.lower()]])))
    return " ".join(said)


class TestRoundTrips:
    @given(st.data())
    def test_spoken_email_is_captured_back(self, data: st.DataObject) -> None:
        """Any valid address, spelled as a caller says it, is captured back exactly."""
        address = data.draw(emails())
        text = say_email(data, address)
        reading = CaptureEmail().read(text, CaptureEmailParams(transcription=text), None)
        assert reading.value == address

    @given(st.data())
    def test_spoken_phone_is_captured_back(self, data: st.DataObject) -> None:
        """Any valid US number, said digit by digit with voice habits, is captured back."""
        number = data.draw(us_numbers())
        prefix = data.draw(st.sampled_from([["plus", "one"], ["one"], []]))
        text = " ".join(prefix + say_digit_string(data, number[2:]))
        reading = CapturePhone().read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value == number

    @given(st.data())
    def test_spoken_code_is_captured_back(self, data: st.DataObject) -> None:
        """Any code of letters and digits, spelled, is captured back upper-case."""
        code = data.draw(codes())
        text = say_code(data, code)
        reading = CaptureDigits().read(text, CaptureDigitsParams(transcription=text), None)
        assert reading.value == code


# An "oh" opening an utterance as callers and formatting ASRs write it: with a pause after
# it, or before words that no zero opens; and what callers say after a value.
_OH_OPENINGS = ["Oh, ", "oh, ", "Oh. ", "uh, oh, ", "oh my code is ", "oh yeah it's ", "oh so "]
_SIGN_OFFS = ["", " i think", ", i believe.", " thank you", ", thanks", " please", " i guess"]
_FIRST = ["nancy", "james", "grace", "helen", "rachel", "michael", "susan", "paul"]
_LAST = ["harris", "allen", "baker", "thompson", "carter", "young", "moore", "davis"]


class TestTalkAroundTheValue:
    """An opening "oh" that is an interjection and the hedges, thanks and "speaking" said
    after a value are no part of it; "oh" inside the value stays a zero."""

    @given(st.data())
    def test_a_code_between_an_oh_and_a_hedge_is_captured_back(self, data: st.DataObject) -> None:
        """Any code, spelled (zeros said "oh" too when all are digits: among letters "oh" may
        be an O), is captured back exactly."""
        code = data.draw(codes())
        # A one-digit code said "oh" is itself an opening "oh": "Oh, oh thank you" is an
        # interjection or the code 0, which no reader can tell; that one is said "zero".
        zeros = ["zero", "oh"] if code.isdigit() and len(code) > 1 else ["zero"]
        said = [
            data.draw(st.sampled_from(zeros)) if w == "zero" else w
            for w in say_code(data, code).split()
        ]
        text = data.draw(st.sampled_from(_OH_OPENINGS)) + " ".join(said)
        text += data.draw(st.sampled_from(_SIGN_OFFS))
        reading = CaptureDigits().read(text, CaptureDigitsParams(transcription=text), None)
        assert reading.value == code, text

    @given(st.data())
    def test_a_phone_number_after_an_oh_is_captured_back(self, data: st.DataObject) -> None:
        """Any valid US number said after an opening "oh" and before a sign-off."""
        number = data.draw(us_numbers())
        text = data.draw(st.sampled_from([*_OH_OPENINGS, "oh my cell is ", "Oh, it's "]))
        text += " ".join(say_digit_string(data, number[2:]))
        text += data.draw(st.sampled_from(_SIGN_OFFS))
        reading = CapturePhone().read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value == number, text

    @given(st.data())
    def test_an_oh_that_only_an_interjection_makes_valid_is_one(self, data: st.DataObject) -> None:
        """ "oh" then a code of the one length accepted, or a valid number: the "oh" is no
        zero, since only without it is the value valid; it stays a zero where it fits."""
        digits = data.draw(st.text("0123456789", min_size=1, max_size=10))
        said = " ".join(say_digit_string(data, digits))
        text = data.draw(st.sampled_from(["oh ", "uh oh "])) + said
        exact = CaptureDigitsParams(
            transcription=text, min_length=len(digits), max_length=len(digits)
        )
        assert CaptureDigits().read(text, exact, None).value == digits, text
        longer = CaptureDigitsParams(transcription=text, min_length=len(digits) + 1)
        assert CaptureDigits().read(text, longer, None).value == "0" + digits, text
        number = data.draw(us_numbers())
        text = "oh " + " ".join(say_digit_string(data, number[2:]))
        reading = CapturePhone().read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value == number, text

    @given(
        st.sampled_from(_FIRST),
        st.sampled_from(_LAST),
        st.sampled_from(["", "oh ", "Oh, ", "oh it's ", "uh, my name is ", "this is ", "i'm "]),
        st.sampled_from(["", " speaking", " here", ", calling", " speaking, thanks", "."]),
    )
    def test_a_name_said_with_its_carriers_is_captured_back(
        self, first: str, last: str, opening: str, closing: str
    ) -> None:
        """A first and last name between an opening ("oh, this is") and a closing
        ("speaking", "here") is the name alone."""
        text = f"{opening}{first} {last}{closing}"
        reading = CaptureName().read(text, CaptureName.params_model(transcription=text), None)
        assert reading.value == f"{first.title()} {last.title()}", text

    @given(st.data())
    def test_an_email_after_an_oh_and_a_carrier_is_captured_back(self, data: st.DataObject) -> None:
        """Any valid address after "oh, my email is" / "oh the email address is"."""
        address = data.draw(emails())
        opening = data.draw(st.sampled_from(["oh ", "Oh, ", "oh yeah "]))
        text = opening + "the email address is " + say_email(data, address)
        reading = CaptureEmail().read(text, CaptureEmailParams(transcription=text), None)
        assert reading.value == address, text


_EMAIL_CARRIERS = st.builds(
    "{} {} {} ".format,
    st.sampled_from(["but", "and", "so", "well", "um so", ""]),
    st.sampled_from(
        ["the best email to reach me", "the address i use for work", "you can reach me",
         "i can be reached", "my personal email", "what you want to write down"]
    ),
    st.sampled_from(["is", "at", "would be", "was"]),
)  # fmt: skip


@given(st.data())
def test_carrier_words_stay_out_of_the_local_part(data: st.DataObject) -> None:
    """Any valid address said after a carrier phrase ending in "is", "be" or "at" ("the
    best email to reach me is ...", "you can reach me at ...") is the address alone."""
    address = data.draw(emails())
    text = data.draw(_EMAIL_CARRIERS).strip() + " " + say_email(data, address)
    reading = CaptureEmail().read(text, CaptureEmailParams(transcription=text), None)
    assert reading.value == address, text


_SPOKEN_WORDS = st.sampled_from(
    (
        "a",
        "b",
        "o",
        "oh",
        "at",
        "dot",
        "dash",
        "plus",
        "double",
        "triple",
        "hundred",
        "thousand",
        "twenty",
        "five",
        "zero",
        "no",
        "wait",
        "i",
        "mean",
        "as",
        "in",
        "for",
        "x-ray",
        "my",
        "email",
        "is",
        "it's",
        "415",
        "(555)",
        "555-1212",
        "+",
        "@",
        ".",
        "-",
        "extension",
        "x",
        "the",
        "letter",
        "last",
        "is",
        "not",
        "sorry",
        "capital",
    )
)
_PRIMITIVES: list[CapturePrimitive[Any]] = [
    CaptureEmail(),
    CapturePhone(),
    CaptureDigits(),
    CaptureName(),
]


def _params(primitive: CapturePrimitive[Any], text: str) -> CaptureParams:
    """Default params of ``primitive`` for ``text``, as the accuracy bench builds them."""
    params = primitive.params_model.model_validate({"transcription": text})
    assert isinstance(params, CaptureParams)
    return params


class TestNeverRaises:
    @given(
        st.one_of(st.text(max_size=200), st.lists(_SPOKEN_WORDS, max_size=30).map(" ".join)),
        st.sampled_from(_PRIMITIVES),
    )
    def test_any_text_is_a_clean_reading(self, text: str, primitive: CapturePrimitive[Any]) -> None:
        """Any text gives a value, or no value with a reason; never an exception."""
        reading = primitive.read(text, _params(primitive, text), None)
        assert reading.value is not None or reading.reason
        assert 0.0 <= reading.certainty <= 1.0

    @given(st.lists(_SPOKEN_WORDS, max_size=20).map(" ".join), st.sampled_from(_PRIMITIVES))
    def test_any_answer_is_an_edit_or_none(
        self, text: str, primitive: CapturePrimitive[Any]
    ) -> None:
        """correct() on any answer returns a reading or None; never an exception."""
        held = {"capture_email": "john@gmail.com", "capture_phone": "+14155552671"}.get(
            primitive.name, "JOHN5"
        )
        edited = primitive.correct(held_value(held), reply_of(text), _params(primitive, text))
        assert edited is None or edited.value is None or edited.value != ""
        assert edited is None or 0.0 <= edited.certainty <= 1.0


@given(st.data())
def test_a_zero_heard_as_or_between_digits_is_read_less_certain(data: st.DataObject) -> None:
    """A digit code as an ASR that hears "oh" as "or", "of" or "all" writes it (a zero
    between two other digits so written) is captured back, less certain than as said."""
    digits = data.draw(st.text("0123456789", min_size=4, max_size=12))
    inner = [at for at in range(1, len(digits) - 1) if digits[at] == "0"]
    inner = [at for at in inner if digits[at - 1] != "0" and digits[at + 1] != "0"]
    assume(inner)
    heard = data.draw(st.sampled_from(["or", "of", "all"]))
    said = [heard if at in inner else DIGIT_NAMES[int(d)] for at, d in enumerate(digits)]
    text = data.draw(st.sampled_from(["", "the code is ", "my order number is "])) + " ".join(said)
    params = CaptureDigitsParams(transcription=text, max_length=12)
    reading = CaptureDigits().read(text, params, None)
    assert reading.value == digits, text
    assert reading.certainty < CaptureDigits().read(digits, params, None).certainty


@given(st.data())
def test_a_phone_number_with_a_zero_heard_as_or_is_read_less_certain(
    data: st.DataObject,
) -> None:
    """A US number said digit by digit, a zero between two other digits written "or", "of"
    or "all" as an ASR hears "oh", is captured back, less certain than said with "oh"."""
    number = data.draw(us_numbers())
    digits = number[2:]
    inner = [at for at in range(1, len(digits) - 1) if digits[at] == "0"]
    inner = [at for at in inner if digits[at - 1] != "0" and digits[at + 1] != "0"]
    assume(inner)
    heard = data.draw(st.sampled_from(["or", "of", "all"]))
    said = [heard if at in inner else DIGIT_NAMES[int(d)] for at, d in enumerate(digits)]
    plain = [("oh" if word == heard else word) for word in said]
    text, plain_text = " ".join(said), " ".join(plain)
    reading = CapturePhone().read(text, CapturePhoneParams(transcription=text), None)
    as_said = CapturePhone().read(plain_text, CapturePhoneParams(transcription=plain_text), None)
    assert reading.value == number, text
    assert reading.certainty < as_said.certainty
