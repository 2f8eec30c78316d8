"""Round trips of capture_card: a valid card (Luhn number of a brand's prefix and length, an
expiry ahead, a CVV of the brand's length) rendered the ways callers say it and formatting
ASRs write it is captured back exactly, in one turn or one part a turn.

The renderings and the Luhn check digit come from code written here, independent of the
parser.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.property.test_spoken_numbers_dates import below_hundred
from voicecore._card_crypto import CardCipher
from voicecore.primitives._card_parts import CardParts
from voicecore.primitives.card import CaptureCard, CaptureCardParams

CIPHER = CardCipher(bytes(32))
CARD = CaptureCard(CIPHER)
TODAY = "2026-12-01"
# (prefix choices, length, CVV length): prefixes from the networks' published IIN ranges.
_BRANDS = [
    (["4"], 16, 3),
    ([str(p) for p in range(51, 56)] + ["2221", "2500", "2720"], 16, 3),
    (["34", "37"], 15, 4),
    (["6011", "65", "644"], 16, 3),
    (["3528", "3560", "3589"], 16, 3),
]
_DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_OPENINGS = ["", "uh ", "um, ", "yeah ", "it's ", "my card number is ", "the card number is "]
_EXPIRY_LABELS = ["expires ", "exp ", "expiration date ", "valid thru ", "it expires "]
_CVV_LABELS = ["cvv ", "security code ", "the security code is ", "cvc "]


def check_digit(body: str) -> str:
    """The Luhn check digit that makes ``body + digit`` valid."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit // 10 + digit % 10
    return str(-total % 10)


@st.composite
def cards(draw: st.DrawFn) -> tuple[str, int, int, str]:
    """A valid number, expiry month and year, and CVV."""
    prefixes, length, cvv_length = draw(st.sampled_from(_BRANDS))
    prefix = draw(st.sampled_from(prefixes))
    body_size = length - len(prefix) - 1
    body = prefix + draw(st.text(alphabet="0123456789", min_size=body_size, max_size=body_size))
    month = draw(st.integers(min_value=1, max_value=12))
    year = draw(st.integers(min_value=2027, max_value=2040))
    cvv = draw(st.text(alphabet="0123456789", min_size=cvv_length, max_size=cvv_length))
    return body + check_digit(body), month, year, cvv


def said_digits(digits: str, zero: str) -> str:
    return " ".join(zero if char == "0" else _DIGIT_WORDS[int(char)] for char in digits)


def groups(number: str) -> list[str]:
    sizes = [4, 6, 5] if len(number) == 15 else [4, 4, 4, 4]
    out, start = [], 0
    for size in sizes:
        out.append(number[start : start + size])
        start += size
    return out


def number_forms(number: str) -> list[str]:
    """How a caller says the number, and how ASRs write it."""
    return [
        number,
        " ".join(groups(number)),
        "-".join(groups(number)),
        ", ".join(number),
        said_digits(number, "zero"),
        said_digits(number, "oh"),
        ", ".join(said_digits(group, "oh") for group in groups(number)),
    ]


def year_words(year: int) -> str:
    return below_hundred(year % 100)


def expiry_forms(month: int, year: int) -> list[str]:
    yy = year % 100
    month_said = f"oh {_DIGIT_WORDS[month]}" if month < 10 else below_hundred(month)
    return [
        f"{month:02d}/{yy:02d}",
        f"{month}/{yy:02d}",
        f"{month:02d}/{year}",
        f"{month_said} {year_words(year)}",
        f"{_MONTHS[month - 1]} {year_words(year)}",
        f"{_MONTHS[month - 1]} {year}",
        f"{_MONTHS[month - 1]} twenty {year_words(year)}",
        f"{month_said} slash {year_words(year)}",
    ]


def cvv_forms(cvv: str) -> list[str]:
    return [cvv, said_digits(cvv, "zero"), ", ".join(cvv)]


def params() -> CaptureCardParams:
    return CaptureCardParams.model_validate({"transcription": "", "reference_date": TODAY})


def opened(token: str | None) -> tuple[str, str, str]:
    assert token is not None
    parts = CardParts.from_sealed_text(CIPHER.open(token))
    return parts.number, parts.expiry.written if parts.expiry else "", parts.cvv


@given(cards(), st.data())
def test_a_card_said_in_one_turn_is_captured_back(
    card: tuple[str, int, int, str], data: st.DataObject
) -> None:
    number, month, year, cvv = card
    said = (
        data.draw(st.sampled_from(_OPENINGS))
        + data.draw(st.sampled_from(number_forms(number)))
        + ", "
        + data.draw(st.sampled_from(_EXPIRY_LABELS))
        + data.draw(st.sampled_from(expiry_forms(month, year)))
        + ", "
        + data.draw(st.sampled_from(_CVV_LABELS))
        + data.draw(st.sampled_from(cvv_forms(cvv)))
        + data.draw(st.sampled_from(["", ".", " thanks"]))
    )
    reading = CARD.read(said, params(), None)
    assert opened(reading.value) == (number, f"{month:02d}/{year % 100:02d}", cvv), said


@given(cards(), st.data())
def test_a_card_said_a_part_a_turn_is_captured_back(
    card: tuple[str, int, int, str], data: st.DataObject
) -> None:
    """Number, expiry and CVV each in its own turn, unlabeled, as answers to the prompts."""
    number, month, year, cvv = card
    turns = [
        data.draw(st.sampled_from(_OPENINGS)) + data.draw(st.sampled_from(number_forms(number))),
        data.draw(st.sampled_from(["", "uh ", "it's "]))
        + data.draw(st.sampled_from(expiry_forms(month, year))),
        data.draw(st.sampled_from(["", "um ", "it's "]))
        + data.draw(st.sampled_from(cvv_forms(cvv))),
    ]
    partial = None
    for said in turns[:-1]:
        reading = CARD.read(said, params(), partial)
        assert reading.partial is not None, (said, reading.reason)
        partial = reading.partial
    reading = CARD.read(turns[-1], params(), partial)
    assert opened(reading.value) == (number, f"{month:02d}/{year % 100:02d}", cvv), turns


@given(cards())
def test_keys_give_the_card(card: tuple[str, int, int, str]) -> None:
    number, month, year, cvv = card
    keys = f"{number}{month:02d}{year % 100:02d}{cvv}"
    reading = CARD.read_keys(keys, params(), None)
    assert opened(reading.value) == (number, f"{month:02d}/{year % 100:02d}", cvv)


@given(cards(), st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=9))
def test_one_wrong_digit_never_passes(
    card: tuple[str, int, int, str], position: int, change: int
) -> None:
    """Luhn catches every single-digit error: the number is refused, never another card."""
    number = card[0]
    position %= len(number)
    wrong = number[:position] + str((int(number[position]) + change) % 10) + number[position + 1 :]
    reading = CARD.read(f"card number {wrong}", params(), None)
    assert reading.value is None and reading.partial is None
    assert reading.reason in ("luhn_failed", "unknown_brand", "wrong_length")


def params_asking(**fields: bool | str) -> CaptureCardParams:
    """Params with ``fields`` set (``require_expiry``, ``require_cvv``, ``dtmf``)."""
    return CaptureCardParams.model_validate(
        {"transcription": "", "reference_date": TODAY, **fields}
    )


@st.composite
def codes(draw: st.DrawFn, length: int) -> str:
    """A CVV of ``length`` digits, as often one that is also a month and year ("1228",
    "428") as any."""
    month = draw(st.integers(min_value=1, max_value=12))
    year = draw(st.integers(min_value=0, max_value=99))
    date_like = f"{month:0{length - 2}d}{year:02d}"
    if len(date_like) == length and draw(st.booleans()):
        return date_like
    return draw(st.text(alphabet="0123456789", min_size=length, max_size=length))


def code_forms(cvv: str) -> list[str]:
    """How a caller says a code: digit by digit, and four digits in pairs ("twelve twenty
    eight") when both pairs are said as numbers from ten up."""
    forms = cvv_forms(cvv)
    if len(cvv) == 4 and int(cvv[:2]) >= 10 and int(cvv[2:]) >= 10:
        forms.append(f"{below_hundred(int(cvv[:2]))} {below_hundred(int(cvv[2:]))}")
    return forms


@given(cards(), st.data())
def test_without_an_expiry_asked_for_the_code_alone_is_the_cvv(
    card: tuple[str, int, int, str], data: st.DataObject
) -> None:
    """The number, then the code said or keyed alone (a date-like one too) completes the
    card with that CVV."""
    number, _, _, drawn = card
    cvv = data.draw(codes(len(drawn)))
    asked = params_asking(require_expiry=False)
    first = CARD.read(data.draw(st.sampled_from(number_forms(number))), asked, None)
    assert first.reason == "need_cvv", first.reason
    said = data.draw(st.sampled_from(["", "uh ", "it's "])) + data.draw(
        st.sampled_from(code_forms(cvv))
    )
    assert opened(CARD.read(said, asked, first.partial).value) == (number, "", cvv), said
    keyed = params_asking(require_expiry=False, dtmf=f"{number}#{cvv}#")
    assert opened(CARD.read_keys(number, keyed, None).value) == (number, "", cvv)


@given(cards(), st.data())
def test_without_a_cvv_asked_for_the_date_alone_is_the_expiry(
    card: tuple[str, int, int, str], data: st.DataObject
) -> None:
    """The number, then the expiry said or keyed alone ("four twenty eight", "428")
    completes the card with that expiry, whatever the brand's CVV length."""
    number, month, year, _ = card
    yy = year % 100
    asked = params_asking(require_cvv=False)
    first = CARD.read(data.draw(st.sampled_from(number_forms(number))), asked, None)
    assert first.reason == "need_expiry", first.reason
    forms = [*expiry_forms(month, year), f"{month}{yy:02d}", f"{month:02d}{yy:02d}"]
    if month < 10:
        forms.append(f"{_DIGIT_WORDS[month]} {year_words(year)}")
    said = data.draw(st.sampled_from(forms))
    expected = (number, f"{month:02d}/{yy:02d}", "")
    assert opened(CARD.read(said, asked, first.partial).value) == expected, said
    keys = data.draw(st.sampled_from([f"{month}{yy:02d}", f"{month:02d}{yy:02d}"]))
    keyed = params_asking(require_cvv=False, dtmf=f"{number}#{keys}#")
    assert opened(CARD.read_keys(number, keyed, None).value) == expected


def formatted_cvv_forms(cvv: str) -> list[str]:
    """A CVV with its label as formatting ASRs write it: glued to the code ("CVV123",
    "cvc-123"), "CV" for a quick "c v v", a zero written as the letter "o". The test puts the
    expiry after "through" alone too (the first word of "valid through" misheard)."""
    return [
        f"CVV{cvv}",
        f"cvc-{cvv}",
        f"CV{cvv[0]}, {', '.join(cvv[1:])}",
        f"CV {cvv}",
        f"the CV is {cvv}",
        f"security code {cvv.replace('0', 'o', 1)}",
    ]


@given(cards(), st.data())
def test_a_cvv_label_as_formatting_asrs_write_it_is_read(
    card: tuple[str, int, int, str], data: st.DataObject
) -> None:
    number, month, year, cvv = card
    form = data.draw(st.sampled_from(formatted_cvv_forms(cvv)))
    said = (
        data.draw(st.sampled_from(number_forms(number)))
        + ", "
        + data.draw(st.sampled_from([*_EXPIRY_LABELS, "Valley through ", "thru "]))
        + data.draw(st.sampled_from(expiry_forms(month, year)))
        + ", "
        + form
    )
    reading = CARD.read(said, params(), None)
    assert opened(reading.value) == (number, f"{month:02d}/{year % 100:02d}", cvv), said
