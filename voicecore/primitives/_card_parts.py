"""The parts of a payment card as callers say them: number (Luhn, brand), expiry, CVV.

Brands by issuer identification number (IIN) prefix and length, from the IIN table of
Wikipedia's "Payment card number" article (as of 2024), which follows the networks' own
published ranges. The longest matching prefix wins, so Discover's 622126-622925 (its
UnionPay co-branded range) is Discover and the rest of 62 UnionPay. python-stdnum has the Luhn
check but no brand table, so both are kept here (Luhn is five lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

from voicecore.primitives._dates.vocabulary import MONTHS
from voicecore.spoken.digits import digit_run, is_digit_word
from voicecore.spoken.formatted import digit_homophones, zero_homophones, zero_letters

__all__ = [
    "BRANDS",
    "Brand",
    "Asked",
    "CardParts",
    "Expiry",
    "brand_of",
    "heard_alike",
    "heard_parts",
    "luhn_valid",
]


@dataclass(frozen=True, slots=True)
class Brand:
    """A card network: its ``data.brand`` id, spoken name, IIN prefixes, number lengths (the
    usual one first) and CVV length."""

    id: str
    name: str
    prefixes: tuple[str, ...]
    lengths: tuple[int, ...]
    cvv_length: int = 3


def _span(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(prefix) for prefix in range(first, last + 1))


BRANDS: Final = (
    Brand("amex", "American Express", ("34", "37"), (15,), cvv_length=4),
    Brand("visa", "Visa", ("4",), (16, 13, 19)),
    Brand("mastercard", "Mastercard", (*_span(51, 55), *_span(2221, 2720)), (16,)),
    Brand(
        "discover",
        "Discover",
        ("6011", *_span(644, 649), "65", *_span(622126, 622925)),
        (16, 17, 18, 19),
    ),
    Brand("jcb", "JCB", _span(3528, 3589), (16, 17, 18, 19)),
    Brand("diners", "Diners Club", (*_span(300, 305), "3095", "36", "38", "39"), (14, 16, 19)),
    Brand("unionpay", "UnionPay", ("62",), (16, 17, 18, 19)),
    Brand("mir", "Mir", _span(2200, 2204), (16, 17, 18, 19)),
)
_BY_PREFIX: Final = {prefix: brand for brand in BRANDS for prefix in brand.prefixes}
_LONGEST_PREFIX: Final = max(len(prefix) for prefix in _BY_PREFIX)
#: Fewer digits than this are the start of a number, kept for the next turn.
MIN_NUMBER: Final = 13
MAX_NUMBER: Final = 19


def brand_of(number: str) -> Brand | None:
    """The brand whose IIN prefix ``number`` starts with (the longest prefix), or None."""
    for size in range(min(_LONGEST_PREFIX, len(number)), 0, -1):
        brand = _BY_PREFIX.get(number[:size])
        if brand is not None:
            return brand
    return None


def luhn_valid(number: str) -> bool:
    """Whether ``number`` passes the Luhn (mod 10) check (ISO/IEC 7812-1)."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class Expiry:
    """A card's expiry month and four-digit year."""

    month: int
    year: int

    @property
    def written(self) -> str:
        """``MM/YY``, as on the card."""
        return f"{self.month:02d}/{self.year % 100:02d}"

    def expired(self, today: date) -> bool:
        """A card is good through the last day of its month."""
        return (self.year, self.month) < (today.year, today.month)


@dataclass(frozen=True, slots=True)
class CardParts:
    """What is known of a card: digits of the number (maybe not all yet), expiry, CVV.

    ``bad_expiry``: digits were given for the expiry that are no date ("1399"), and no date
    after them; a card with it is refused, so it is never sealed (nor its digits kept).
    """

    number: str = ""
    expiry: Expiry | None = None
    cvv: str = ""
    bad_expiry: bool = False

    def merged(self, newer: CardParts) -> CardParts:
        """These parts with those ``newer`` has replacing them."""
        return CardParts(
            newer.number or self.number,
            newer.expiry or self.expiry,
            newer.cvv or self.cvv,
            newer.bad_expiry,
        )

    def sealed_text(self) -> str:
        """The parts as one string to seal ("4111...|0427|123"; missing parts empty)."""
        expiry = f"{self.expiry.month:02d}{self.expiry.year}" if self.expiry else ""
        return f"{self.number}|{expiry}|{self.cvv}"

    @classmethod
    def from_sealed_text(cls, text: str) -> CardParts:
        """The parts ``sealed_text`` wrote."""
        number, expiry, cvv = text.split("|")
        month_year = Expiry(int(expiry[:2]), int(expiry[2:])) if expiry else None
        return cls(number, month_year, cvv)


@dataclass(frozen=True, slots=True)
class Asked:
    """The parts besides the number that the capture asks for (``require_expiry``,
    ``require_cvv``): an unlabeled run of three or four digits is read as one of them."""

    expiry: bool = True
    cvv: bool = True


# Words that say which part the digits after them are ("expires", "cvv"), longest first.
_LABELS: Final = (
    (("card", "number"), "number"),
    (("account", "number"), "number"),
    (("long", "number"), "number"),
    (("number",), "number"),
    (("card",), "number"),
    (("expiration", "date"), "expiry"),
    (("expiry", "date"), "expiry"),
    (("exp", "date"), "expiry"),
    (("valid", "thru"), "expiry"),
    (("valid", "through"), "expiry"),
    (("valid", "until"), "expiry"),
    (("good", "thru"), "expiry"),
    (("good", "through"), "expiry"),
    # "through" ends "valid through" and "good through": the word an ASR keeps when it
    # mishears the first ("Valed through 09 28").
    (("through",), "expiry"),
    (("thru",), "expiry"),
    (("expiration",), "expiry"),
    (("expiry",), "expiry"),
    (("expires",), "expiry"),
    (("expiring",), "expiry"),
    (("expire",), "expiry"),
    (("exp",), "expiry"),
    (("date",), "expiry"),
    (("security", "code"), "cvv"),
    (("verification", "code"), "cvv"),
    (("card", "verification", "value"), "cvv"),
    (("three", "digit", "code"), "cvv"),
    (("four", "digit", "code"), "cvv"),
    (("cvv",), "cvv"),
    (("cvv2",), "cvv"),
    (("cvc",), "cvv"),
    (("cvc2",), "cvv"),
    (("cid",), "cvv"),
    (("csc",), "cvv"),
    # "CV": a formatting ASR writes "c v v" said quickly with one "v" ("CV 123", "CV is 474").
    (("cv",), "cvv"),
    (("security",), "cvv"),
    (("code",), "cvv"),
    (("c", "v", "v"), "cvv"),
    (("c", "v", "c"), "cvv"),
)
_LABELS_LONGEST_FIRST: Final = tuple(sorted(_LABELS, key=lambda item: -len(item[0])))
# A CVV label written glued to its code by a formatting ASR ("CVV237", "cv3", "CV-985"); a
# "cvv2" or "cvc2" glued to three or four digits is that label ("cvv2 123" run together).
_GLUED_LABEL: Final = re.compile(r"(cvv2|cvc2)-?(\d{3,4})|(cvv|cvc|cv|csc|cid)-?(\d+)")
# "04/27", "4/2027", "04-27", "0427" is read as digits.
_WRITTEN_EXPIRY: Final = re.compile(r"^(\d{1,2})[/.-](\d{2}|\d{4})$")
# A written number with separators: "4111-1111-1111-1111", "4111.1111".
_WRITTEN_GROUPS: Final = re.compile(r"^\d+(?:[-.]\d+)+$")
# What may follow a number in one run: an expiry (MYY, MMYY), a CVV (3, 4), or both. A
# split leaving anything else would drop digits, or read a mistyped number as another card.
_REST_SIZES: Final = frozenset({3, 4, 7, 8})
#: Years ahead of today an expiry may be (cards are issued for at most about ten).
MAX_YEARS_AHEAD: Final = 20


@dataclass(frozen=True, slots=True)
class _Context:
    """What a run is read against: the parts known before this turn, whether the caller is
    filling the missing ones (else correcting), and the parts the capture asks for."""

    known: CardParts
    filling: bool
    asked: Asked


@dataclass(frozen=True, slots=True)
class _Run:
    """Digits said together, and the part a label gave them (None: unlabeled)."""

    digits: str
    part: str | None
    expiry: Expiry | None = None


def heard_parts(
    tokens: Sequence[str], known: CardParts, *, filling: bool, asked: Asked = Asked()
) -> CardParts | None:
    """The card parts said in ``tokens``; None if nothing of a card was said.

    ``filling``: the caller is giving the parts still missing from ``known`` (a number not
    yet whole goes on with the digits said; then the expiry, then the CVV); otherwise the
    caller corrects ``known`` and each run is read by its label or its shape. A number of 13
    or more digits is whole as heard (Luhn and length are checked later). ``asked``: the
    parts the capture asks for; an unlabeled run of three or four digits is the one of
    them still wanted (see ``_short_run``)."""
    runs = list(_runs(tokens))
    if not runs:
        return None
    heard = CardParts()
    for run in runs:
        heard = _assign(run, heard, _Context(known, filling, asked))
    return heard


def _runs(said: Sequence[str]) -> Iterator[_Run]:
    """The digit runs, expiry dates and labels in ``said``, in order: each run with the part
    its label gave it."""
    part: str | None = None
    index = 0
    # The connectors go first: "twelve of twenty eight" is an expiry, not "12 oh 28".
    kept = [token for token in said if token not in ("and", "of", "the", "is", "it's")]
    tokens = [piece for token in zero_homophones(kept, _is_card_digit) for piece in _unglued(token)]
    tokens = digit_homophones(tokens, _is_card_digit)
    while index < len(tokens):
        label = _label_at(tokens, index)
        if label is not None:
            part, index = label[0], index + label[1]
            continue
        token = tokens[index]
        if token in MONTHS:
            digits, index = digit_run(tokens, index + 1)
            year_size = 4 if digits.startswith("20") and len(digits) >= 4 else 2
            expiry = _expiry(MONTHS[token], digits[:year_size]) if digits.isdigit() else None
            if expiry is not None:
                yield _Run("", "expiry", expiry)
                part = None  # what follows "april twenty seven" is said for itself
                if digits[year_size:]:
                    yield _Run(digits[year_size:], None)
            continue
        written = _WRITTEN_EXPIRY.match(token)
        if written is not None:
            expiry = _expiry(int(written[1]), written[2])
            if expiry is not None:
                yield _Run("", "expiry", expiry)
            index += 1
            continue
        if _WRITTEN_GROUPS.match(token):
            yield _Run(re.sub(r"\D", "", token), part)
            index += 1
            continue
        if is_digit_word(token, o_is_zero=True) and token not in ("hundred", "thousand"):
            digits, index = digit_run(tokens, index, o_is_zero=True)
            if tokens[index : index + 1] == ["slash"] and digits.isdigit():
                yield from _slashed(digits, tokens, index + 1, part)
                index = digit_run(tokens, index + 1, o_is_zero=True)[1]
                part = None
                continue
            if digits.isdigit():
                yield _Run(digits, part)
            if digits:
                continue
        index += 1


def heard_alike(tokens: Sequence[str]) -> bool:
    """Whether a digit of ``tokens`` is read from a word that sounds like it ("for", "to",
    "or" for "oh" among digits): a card read so is less certain."""
    return digit_homophones(zero_homophones(tokens, _is_card_digit), _is_card_digit) != list(tokens)


def _is_card_digit(token: str) -> bool:
    return is_digit_word(token, o_is_zero=True)


def _unglued(token: str) -> tuple[str, ...]:
    """A token as the words said: a CVV label glued to its code split from it ("cvv237" ->
    "cvv", "237"), and a letter "o" among a figure's digits read as the zero it was said as
    ("515205767o40": "oh" written as the letter); any other token as it is."""
    glued = _GLUED_LABEL.fullmatch(token)
    if glued is not None and token not in ("cvv2", "cvc2"):
        label, code = (glued[1], glued[2]) if glued[1] else (glued[3], glued[4])
        return (label, code)
    return (zero_letters(token),)


def _slashed(month_run: str, tokens: list[str], at: int, part: str | None) -> Iterator[_Run]:
    """ "... oh four slash twenty seven": the month ends the run before "slash" (what comes
    before it is another part: the number said in the same breath), the year starts the run
    after it (and what follows the year is another part)."""
    size = 2 if len(month_run) >= 2 and 1 <= int(month_run[-2:]) <= 12 else 1
    if month_run[:-size]:
        yield _Run(month_run[:-size], part)
    digits = digit_run(tokens, at, o_is_zero=True)[0]
    year_size = 4 if digits.startswith("20") and len(digits) >= 4 else 2
    expiry = _expiry(int(month_run[-size:]), digits[:year_size]) if digits.isdigit() else None
    if expiry is not None:
        yield _Run("", "expiry", expiry)
    if digits[year_size:]:
        yield _Run(digits[year_size:], None)


def _label_at(tokens: Sequence[str], index: int) -> tuple[str, int] | None:
    for words, part in _LABELS_LONGEST_FIRST:
        if tuple(tokens[index : index + len(words)]) == words:
            return part, len(words)
    return None


def _expiry(month: int, year_text: str) -> Expiry | None:
    if not 1 <= month <= 12 or len(year_text) not in (2, 4):
        return None
    year = int(year_text)
    return Expiry(month, year if len(year_text) == 4 else 2000 + year)


def expiry_from_digits(digits: str) -> Expiry | None:
    """ "0427", "427", "042027", "42027": a month (one or two digits) then a year (two or
    four); None if no such reading has a month 1-12."""
    for month_size in (2, 1):
        month, year = digits[:month_size], digits[month_size:]
        if len(year) in (2, 4) and (expiry := _expiry(int(month), year)) is not None:
            return expiry
    return None


def _assign(run: _Run, heard: CardParts, context: _Context) -> CardParts:
    """``heard`` with ``run`` put where it belongs: where its label says, else to the number
    while it is not whole (13 digits), else to the expiry or CVV."""
    if run.expiry is not None:
        return _with_expiry(heard, run.expiry)
    if run.part == "cvv":
        return replace(heard, cvv=run.digits)
    if run.part == "expiry":
        return _with_expiry(heard, expiry_from_digits(run.digits))
    if run.part == "number":
        return _with_number(run.digits, heard, context)
    so_far = heard.number or context.known.number
    if context.filling and len(so_far) < MIN_NUMBER:
        return _with_number(so_far + run.digits, heard, context)
    if not heard.number and len(run.digits) >= MIN_NUMBER:
        return _with_number(run.digits, heard, context)  # the number said again
    return _rest(run.digits, heard, context)


def _with_expiry(heard: CardParts, expiry: Expiry | None) -> CardParts:
    """``heard`` with digits given for the expiry: ``expiry``, or (None) a bad expiry."""
    if expiry is None:
        return replace(heard, bad_expiry=True)
    return replace(heard, expiry=expiry, bad_expiry=False)


def _with_number(digits: str, heard: CardParts, context: _Context) -> CardParts:
    whole, rest = _split_number(digits)
    heard = replace(heard, number=whole)
    return _rest(rest, heard, context) if rest else heard


def _rest(digits: str, heard: CardParts, context: _Context) -> CardParts:
    """Digits that are not the number: the expiry (filling: while it is missing), the CVV
    (three or four digits, see ``_short_run``), or both ("0427 123"); both whose four
    first digits are no date ("1399 987"), a bad expiry."""
    if len(digits) in (3, 4):
        return _short_run(digits, heard, context)
    open_expiry = _open(heard.expiry is not None, context.known.expiry is not None, context)
    if not open_expiry:
        return heard
    if len(digits) in (7, 8):
        expiry = expiry_from_digits(digits[:4])
        code = digits[4:] if expiry is not None else heard.cvv
        return _with_expiry(replace(heard, cvv=code), expiry)
    expiry = expiry_from_digits(digits)
    return _with_expiry(heard, expiry) if expiry is not None else heard


def _short_run(digits: str, heard: CardParts, context: _Context) -> CardParts:
    """Three or four digits alone: the part the capture still wants of the two.

    Only the CVV wanted (no expiry asked for, or one held): the CVV, whatever its shape
    ("4321", and "1228" too: an American Express code). Only the expiry wanted (no CVV asked
    for, or one held): the expiry when the digits are one ("428" is 04/28, "1228" 12/28).
    Both wanted: four digits that are a month and year are the expiry, the part asked for
    first (the prompt the caller answers is "What's the expiration date?", and the readback
    says the date, so a code misread is heard and corrected); three digits the CVV. Neither
    wanted (both held): the CVV, as a new code. No CVV asked for: digits that are no date are
    not read (the card would carry a code nobody asked for).

    The expiry wanted, four digits that are no date ("1399"): the CVV of a brand whose code
    is four digits (American Express), else a bad expiry, not a code of the wrong length (the
    caller was asked for the date, or keyed it in the date's place)."""
    known = context.known
    wants_expiry = context.asked.expiry and _open(
        heard.expiry is not None, known.expiry is not None, context
    )
    wants_cvv = context.asked.cvv and _open(bool(heard.cvv), bool(known.cvv), context)
    expiry = expiry_from_digits(digits) if wants_expiry else None
    if expiry is not None and (len(digits) == 4 or not wants_cvv):
        return _with_expiry(heard, expiry)
    if not context.asked.cvv:
        return heard
    brand = brand_of(heard.number or known.number)
    if wants_expiry and len(digits) == 4 and brand is not None and brand.cvv_length != 4:
        return _with_expiry(heard, None)  # four digits that are a date were taken above
    return replace(heard, cvv=digits)


def _open(heard: bool, known: bool, context: _Context) -> bool:
    """Whether a part is still to be given: not heard in this turn, and (filling) not known
    from before; a correction may replace a known part."""
    return not heard and not (context.filling and known)


def _split_number(digits: str) -> tuple[str, str]:
    """A number run that goes on into the expiry or CVV ("4111...1111 0427 123" said in one
    breath): the number at the brand's length that passes Luhn, and the rest; else all of it."""
    brand = brand_of(digits)
    if brand is None or len(digits) <= brand.lengths[0]:
        return digits, ""
    if len(digits) in brand.lengths and luhn_valid(digits):
        return digits, ""
    for length in brand.lengths:
        rest = len(digits) - length
        if rest in _REST_SIZES and luhn_valid(digits[:length]):
            return digits[:length], digits[length:]
    return digits, ""
