"""``capture_amount``: money said in words or written ("twelve fifty", "$1,234.56", "twenty bucks").

``value`` is a plain decimal string with the currency's minor digits ("12.50", "1200.00"; "500"
for yen) and ``currency`` its ISO 4217 code, from the ``currency`` param ("USD" by default).

How an amount is heard, in order:

- written: "12.50", "$1,234.56", "€20", "$1.2k" (k is a thousand), "12.50." from a formatting ASR;
- major and minor units: "a hundred and five dollars and ten cents", "twelve dollars fifty",
  "fifty cents", "five grand";
- a price said in two groups: "twelve fifty" and "three fifty" are 12.50 and 3.50, as a caller
  says a price ("twelve hundred fifty" or "one thousand two hundred fifty" is 1250), and so
  are "12 50" and "$45, 95" as a formatting ASR writes such a price;
- any other number ("a hundred and five", "three point five");
- as formatting ASRs write them: figures among scale words ("12 hundred", "7-hundred 40",
  "5 thousand 6 hundred") are one number; "35 cents" is cents; whole units and cents written as
  two amounts ("$40 and 25 cents", "forty dollars and 25 cents") are one, unless said as
  alternatives ("or", "between", "from"); "sense" or "scents" right after a number is "cents"
  misheard, read so with less certainty;
- "half a dollar" is 0.50; "not three hundred, four hundred" the amount after the one turned
  down; a vague amount ("a couple hundred", "a few thousand") is no value.

Keypad input (``dtmf``): digits with "*" as the decimal point ("12*50#" is 12.50), the usual
IVR convention (a keypad has no "." key); so in an amount "*" does not start the entry over.

A currency word said by the caller ("euros", "bucks", "pounds") must name the ``currency``
param's currency: the application says what it takes, so "twenty euros" when it asks for USD is
no value (reason ``currency_mismatch``, with the currency heard), never a silent conversion nor a
switch of currency. "dollars" names every dollar (USD, CAD, AUD, ...), "cents" the minor unit of
every currency that has cents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import ClassVar

from pydantic import Field, model_validator

from voicecore._json import JsonValue
from voicecore.capture import CapturePrimitive, HeldValue, KeypadCaptureParams, Reading, Reply
from voicecore.spoken.number_words import BIG_SCALES, SMALL_SCALES, TEENS, TENS, UNITS, ZERO_DIGITS
from voicecore.spoken.numbers import NumberSpan, cardinal, find_numbers, spoken_number
from voicecore.spoken.readback import say_characters
from voicecore.spoken.tokens import after_correction, drop_fillers, strip_sign_off, words

__all__ = ["CaptureAmount", "CaptureAmountParams", "say_amount"]

# Currency words and the ISO 4217 codes each can name.
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD"})
_MAJOR_WORDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("dollar", "dollars", "buck", "bucks"), _DOLLARS),
    **dict.fromkeys(("usd",), frozenset({"USD"})),
    **dict.fromkeys(("euro", "euros", "eur"), frozenset({"EUR"})),
    **dict.fromkeys(("pound", "pounds", "quid", "gbp", "sterling"), frozenset({"GBP"})),
    **dict.fromkeys(("yen", "jpy"), frozenset({"JPY"})),
}
_CENTS = _DOLLARS | {"EUR"}
_MINOR_WORDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("cent", "cents"), _CENTS),
    **dict.fromkeys(("penny", "pence", "pennies", "p"), frozenset({"GBP"})),
}
# What ASRs write for "cents" ("68 sense"): read as cents only straight after a number, where
# no other sense fits, and the reading is then less certain.
_CENTS_HEARD_AS = frozenset({"sense", "scents", "cent's", "cense"})
_SOUND_ALIKE_CERTAINTY = 0.8
# Words that put two amounts side by side as alternatives or a range ("five dollars or fifty
# cents", "from ... to ..."): such amounts are never one amount's units and cents. ("to" alone
# is no sign: "it came to ...".)
_ALTERNATIVES = frozenset({"or", "between", "from", "versus", "vs"})
_SYMBOLS = {
    "$": _DOLLARS,
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY"}),
}
# Currencies without a minor unit in use (ISO 4217 exponent 0).
_NO_MINOR = frozenset({"JPY", "KRW", "VND", "CLP", "ISK"})
# How to say an amount back: major singular and plural, minor singular and plural.
_NAMES: dict[str, tuple[str, str, str, str]] = {
    **dict.fromkeys(_DOLLARS, ("dollar", "dollars", "cent", "cents")),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "JPY": ("yen", "yen", "", ""),
}
_THOUSANDS = frozenset({"grand", "k"})
_ONE_OF = [[word] for word in _MAJOR_WORDS]
_WRITTEN = re.compile(
    r"^(?P<symbol>[$€£¥])?(?P<number>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]*\.?[0-9]+)"
    r"(?P<k>k)?$"
)
# A price in two written groups ("45, 95"): whole units, then the cents pair.
_WRITTEN_WHOLE = re.compile(r"[$€£¥]?[0-9]{1,3}")
_WRITTEN_PAIR = re.compile(r"[0-9]{2}")
# A figure without currency symbol or thousands commas ("12", "1.5"): a number word written.
_BARE_FIGURE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# "no, fifteen fifty": a bare "no" corrects what came before it (as in capture_number).
_CORRECTING_WORDS = frozenset({"no", "not"})
# "the cents are twenty five", "make the dollars fifteen", "the cents should be 25": the whole
# reply, so "fifteen dollars fifty" is a new amount, not the dollars set to "fifty".
_PART_EDIT = re.compile(
    r"^(?:no )?(?:make )?(?:the )?(?P<part>cents?|pence|pennies|dollars?|euros?|pounds?|bucks)"
    r"(?: (?:is|are|was|were|should be|must be|need to be|to))? (?P<amount>.+)$"
)
# "a couple hundred", "a few thousand dollars": no amount to charge.
_VAGUE = frozenset({"couple", "few", "several", "some", "bunch"})
# "half a dollar": 50 cents of the currency named.
_HALF = [["half", "a"], ["half", "an"]]
_SAY_UNITS = {value: word for word, value in UNITS.items()}
_SAY_TEENS = {value: word for word, value in TEENS.items()}
_SAY_TENS = {value: word for word, value in TENS.items()}
# A keypad amount: digits, then "*" (the decimal point) and the minor digits, if any.
_KEYPAD_AMOUNT = re.compile(r"[0-9]+(?:\*[0-9]+)?")
# More than any caller means (a quadrillion): bounds the words of a readback.
_MAX_AMOUNT = Decimal(10) ** 15
# The digits a decimal holds exactly (the default context's precision).
_PRECISION = 28


class CaptureAmountParams(KeypadCaptureParams):
    """Params of ``capture_amount``: the capture params, inclusive bounds, the currency, and
    whether an amount may have cents."""

    min_value: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    max_value: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    allow_cents: bool = True

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> CaptureAmountParams:
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValueError("min_value must not be greater than max_value")
        return self


@dataclass(frozen=True, slots=True)
class _Heard:
    """An amount heard in one hypothesis: its value and the currencies its words can name
    (None: no currency was said)."""

    value: Decimal
    currencies: frozenset[str] | None
    guessed: bool = False  # a sound-alike of a currency word was read as that word
    minor: bool = False  # said in the minor unit ("twelve cents")


class CaptureAmount(CapturePrimitive[CaptureAmountParams]):
    """Capture an amount of money ("twelve fifty", "$1,234.56", "a hundred dollars and ten cents").

    Without a value the reason says why: ``no_value_heard``, ``several_values``,
    ``currency_mismatch`` (a currency word for another currency), ``cents_not_allowed``,
    ``too_many_decimals`` ("12.505") or ``out_of_range`` (with what was heard).
    """

    name: ClassVar[str] = "capture_amount"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Capture an amount of money said in words or written, as a decimal string and currency."
    )
    noun: ClassVar[str] = "amount"
    params_model = CaptureAmountParams

    def read(self, text: str, params: CaptureAmountParams, partial: str | None) -> Reading:
        """Read the amount in ``text``; ``partial`` is unused (an amount is said whole)."""
        tokens = _last_correction(after_correction(drop_fillers(words(text))))
        if _vague(tokens):
            return Reading(value=None, reason="no_value_heard")
        heard = _amounts(tokens)
        if _ALTERNATIVES.isdisjoint(tokens) and _ends_with_and_cents(tokens):
            heard = _with_cents_said_apart(heard)
        if not heard:
            return Reading(value=None, reason="no_value_heard")
        values = list(dict.fromkeys(item.value for item in heard))
        if len(values) > 1:
            shown: list[JsonValue] = [_plain(value) for value in values]
            return Reading(value=None, reason="several_values", parts={"candidates": shown})
        named = [item.currencies for item in heard if item.currencies is not None]
        reading = amount_reading(values[0], params, named[0] if named else None)
        if any(item.guessed for item in heard):
            return replace(reading, certainty=min(reading.certainty, _SOUND_ALIKE_CERTAINTY))
        return reading

    def read_keys(self, keys: str, params: CaptureAmountParams, partial: str | None) -> Reading:
        """Read a keypad entry with "*" as the decimal point ("12*50" is 12.50, "12" is 12.00),
        the usual IVR convention: a keypad has no "." key, so "*" does not start over here."""
        entry = _KEYPAD_AMOUNT.fullmatch(keys)
        if entry is None:
            return Reading(value=None, reason="invalid_keys", certainty=0.0)
        return amount_reading(Decimal(keys.replace("*", ".")), params, None)

    def correct(self, held: HeldValue, reply: Reply, params: CaptureAmountParams) -> Reading | None:
        """Set one part of the held amount: "the cents are 25", "the dollars are fifteen"."""
        edit = _PART_EDIT.search(" ".join(drop_fillers(words(reply.edit_text))))
        if edit is None:
            return None
        number = spoken_number(edit["amount"].split())
        if number is None or number != number.to_integral_value() or number < 0:
            return None
        whole, _, cents = held.value.partition(".")
        if edit["part"] in ("cent", "cents", "pence", "pennies"):
            if not cents or number >= 100:
                return None
            value = Decimal(f"{whole}.{int(number):02d}")
        else:
            value = Decimal(int(number)) + (Decimal(f"0.{cents}") if cents else Decimal(0))
        return amount_reading(value, params, None)


def amount_reading(
    value: Decimal, params: CaptureAmountParams, named: frozenset[str] | None
) -> Reading:
    """``value`` in ``params.currency`` as a reading, or no value with the reason."""
    currency = params.currency
    if named is not None and currency not in named:
        heard = "/".join(sorted(named))  # "EUR"; "dollars" names every dollar: "AUD/CAD/..."
        return Reading(value=None, reason="currency_mismatch", parts={"heard_currency": heard})
    if value >= _MAX_AMOUNT:  # before quantizing: past the precision, quantize raises
        return Reading(value=None, reason="out_of_range", parts={"heard": _plain(value)})
    exponent = 0 if currency in _NO_MINOR else 2
    quantum = Decimal(1).scaleb(-exponent)
    if value != value.quantize(quantum, rounding="ROUND_DOWN"):
        return Reading(value=None, reason="too_many_decimals", parts={"heard": _plain(value)})
    if not params.allow_cents and value != value.to_integral_value():
        return Reading(value=None, reason="cents_not_allowed", parts={"heard": _plain(value)})
    if not _within(value, params):
        return Reading(value=None, reason="out_of_range", parts={"heard": _plain(value)})
    written = format(value.quantize(quantum), "f")
    return Reading(
        value=written,
        readback=say_amount(written, currency),
        parts={"currency": currency},
    )


def _within(value: Decimal, params: CaptureAmountParams) -> bool:
    if value < (params.min_value or 0) or value >= _MAX_AMOUNT:
        return False
    return params.max_value is None or value <= params.max_value


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _last_correction(tokens: list[str]) -> list[str]:
    """What follows the last "no"/"not", if an amount is said there; else all of ``tokens``."""
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index] in _CORRECTING_WORDS:
            rest = _after_turned_down(tokens[index + 1 :])
            return rest if _amounts(rest) else tokens
    return tokens


def _after_turned_down(rest: list[str]) -> list[str]:
    """ "[not] three hundred, four hundred": a run of number words that is neither one number
    nor a price, but two numbers, is the amount turned down and then the one meant."""
    spans = find_numbers(rest)
    if not spans or spans[0].start != 0:
        return rest
    run = rest[: spans[0].end]
    if cardinal(run) is not None or _price(run) is not None:
        return rest
    for split in range(1, len(run)):
        if cardinal(run[:split]) is not None and cardinal(run[split:]) is not None:
            return rest[split:]
    return rest


def _vague(tokens: Sequence[str]) -> bool:
    """ "a couple hundred", "a few thousand dollars", "several grand": a guess, no amount."""
    return any(
        token in _VAGUE and tokens[index + 1 : index + 2] in _SCALE_AFTER
        for index, token in enumerate(tokens)
    )


def _amounts(tokens: Sequence[str]) -> list[_Heard]:
    """Every amount said in ``tokens``: written ones, then numbers with their currency words."""
    found: list[_Heard] = []
    spoken: list[str] = []
    for index, token in enumerate(tokens):
        if tokens[index : index + 2] in _HALF and tokens[index + 2 : index + 3] in _ONE_OF:
            found.append(_Heard(Decimal("0.5"), _MAJOR_WORDS[tokens[index + 2]]))
            spoken.append("|")  # "half a dollar": "half" stands for the amount,
            continue
        if tokens[index - 1 : index + 1] in _HALF:
            continue  # its "a" for nothing
        if token in ("a", "an") and tokens[index + 1 : index + 2] in _ONE_OF:
            token = "one"  # "a buck fifty", "a dollar and ten cents"
        written = _written(token)
        if written is None or _among_scale_words(tokens, index):
            spoken.append(token)
            continue
        if spoken[-1:] == ["|"] and _written_price(tokens[index - 1], found[-1], token):
            found[-1] = _Heard(found[-1].value + written.value / 100, found[-1].currencies)
            continue
        found.append(written)
        spoken.append("|")  # keeps the words on either side of a written amount apart
    return _with_units(spoken, found)


def _ends_with_and_cents(tokens: Sequence[str]) -> bool:
    """Whether ``tokens`` end "and <a number> cents" ("$40 and 25 cents"): the only shape in
    which a whole amount and cents said apart are one amount. "$40 plus 25 cents", "$5 less
    50 cents", "$40 and got 25 cents back" are two."""
    tokens = strip_sign_off(drop_fillers(list(tokens)))  # "... and 1 cent please"
    if len(tokens) < 3 or _minor_word(tokens[-1]) is None:
        return False
    joined = len(tokens) - 1 - tokens[::-1].index("and") if "and" in tokens else -1
    return joined >= 0 and spoken_number(tokens[joined + 1 : -1]) is not None


def _with_cents_said_apart(heard: list[_Heard]) -> list[_Heard]:
    """Whole units and cents said as two amounts ("$250 and 12 cents", "two hundred fifty
    dollars and 12 cents" as a formatting ASR writes it) as the one amount: two heard, one a
    whole number of the major unit, the other below one unit said in the minor unit."""
    if len(heard) != 2:
        return heard
    cents = [item for item in heard if item.minor and item.value < 1]
    whole = [item for item in heard if not item.minor and _whole(item.value)]
    if len(cents) != 1 or len(whole) != 1:
        return heard
    currencies = whole[0].currencies or cents[0].currencies
    guessed = cents[0].guessed
    return [_Heard(whole[0].value + cents[0].value, currencies, guessed=guessed)]


def _among_scale_words(tokens: Sequence[str], index: int) -> bool:
    """Whether the figure at ``index`` is part of a number said with scale words, as a
    formatting ASR writes it ("12 hundred", "5 thousand 6 hundred", "2 hundred (and) 50"):
    the figure, bare, comes before a scale word or right after one (an "and" between); the
    words read it."""
    if not _BARE_FIGURE.fullmatch(tokens[index]):
        return False
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    before = tokens[max(index - 2, 0) : index]
    if before[-1:] == ["and"]:
        before = before[:-1]  # "2 hundred and 5"
    after_scale = bool(before) and before[-1] in _SCALE_WORDS
    return following in _SCALE_WORDS or after_scale


def _written_price(before: str, whole: _Heard, token: str) -> bool:
    """Whether ``token`` is the cents of the written amount ``before`` it: a price said in two
    groups and written so by a formatting ASR ("forty five ninety five" as "45, 95"), as
    ``_price`` reads the words: whole units (1 to 3 figures), then a two-figure pair."""
    return (
        _WRITTEN_WHOLE.fullmatch(before) is not None
        and whole.value == whole.value.to_integral_value()
        and _WRITTEN_PAIR.fullmatch(token) is not None
    )


def _written(token: str) -> _Heard | None:
    """ "$12.50", "1,234.56", "$1.2k", "€20" as an amount; None for anything else."""
    match = _WRITTEN.match(token)
    if match is None:
        return None
    figures = match["number"].replace(",", "")
    if sum(character.isdigit() for character in figures) > _PRECISION:
        return None  # more digits than a decimal holds exactly: no amount a caller says
    value = Decimal(figures)  # the pattern lets only decimals through
    if match["k"]:
        value *= 1000
    symbol = match["symbol"]
    return _Heard(value, _SYMBOLS[symbol] if symbol else None)


def _with_units(tokens: Sequence[str], written: list[_Heard]) -> list[_Heard]:
    """Amounts said in words ("twelve dollars and fifty cents"), after the ``written`` ones
    (whose currency word, if any, follows them: "12.50 dollars")."""
    heard = _named_written(tokens, written)
    spans = find_numbers(tokens)
    index = 0
    while index < len(spans):
        after, value = _amount_at(tokens, spans[index])
        if after < len(tokens) and tokens[after] in _THOUSANDS:
            value, after = value * 1000, after + 1
        major = _MAJOR_WORDS.get(tokens[after]) if after < len(tokens) else None
        minor = _minor_word(tokens[after]) if after < len(tokens) else None
        if minor is not None:
            guessed = tokens[after] not in _MINOR_WORDS
            heard.append(_Heard(value / 100, minor, guessed=guessed, minor=True))
            index += 1
            continue
        cents, used = _cents_after(tokens, spans, index, after) if major else (None, 0)
        if cents is not None:
            value += cents.value
        heard.append(_Heard(value, major if major is not None else None))
        index += 1 + used
    return heard


def _amount_at(tokens: Sequence[str], span: NumberSpan) -> tuple[int, Decimal]:
    """Where the amount ``span`` starts ends, and its value: a cardinal, a price in two groups
    ("twelve fifty"), or the number ``find_numbers`` read ("three point five").

    A run ``find_numbers`` took for a number said twice ("ninety nine ninety nine") is, said
    of money, a price (99.99).
    """
    run = tokens[span.start : span.end]
    end = 2 * span.end - span.start
    doubled = _price([*run, *run]) if list(tokens[span.end : end]) == list(run) else None
    if doubled is not None:
        return end, doubled
    whole = cardinal(run)
    if whole is not None:
        return span.end, Decimal(whole)
    price = _price(run)
    return span.end, price if price is not None else span.value


def _named_written(tokens: Sequence[str], written: list[_Heard]) -> list[_Heard]:
    """The written amounts, each with the currency word said right after it, if any, and
    the cents written after that word ("45 dollars 50")."""
    named: list[_Heard] = []
    markers = [index for index, token in enumerate(tokens) if token == "|"]
    pending = list(zip(markers, written, strict=True))
    index = 0
    while index < len(pending):
        marker, amount = pending[index]
        after = tokens[marker + 1] if marker + 1 < len(tokens) else ""
        minor = _minor_word(after)
        if minor is not None and amount.currencies is None and _whole(amount.value):
            guessed = after not in _MINOR_WORDS
            named.append(_Heard(amount.value / 100, minor, guessed=guessed, minor=True))
            index += 1
            continue  # "68 cents" written: sixty eight cents, not dollars
        word = _MAJOR_WORDS.get(after)
        value = amount.value
        following = pending[index + 1] if index + 1 < len(pending) else None
        if word and following and following[0] == marker + 2 and _cents_of(value, following[1]):
            value += following[1].value / 100
            index += 1
        named.append(_Heard(value, amount.currencies or word))
        index += 1
    return named


def _minor_word(token: str) -> frozenset[str] | None:
    """The currencies a minor-unit word after a number names: "cents", "pence", or a
    sound-alike of "cents" an ASR writes ("sense")."""
    return _MINOR_WORDS.get(token) or (_MINOR_WORDS["cents"] if token in _CENTS_HEARD_AS else None)


def _whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _cents_of(whole: Decimal, cents: _Heard) -> bool:
    """Whether ``cents``, written after a whole amount and its units, is its cents."""
    number = cents.value
    return (
        whole == whole.to_integral_value()
        and cents.currencies is None
        and number == number.to_integral_value()
        and 0 <= number < 100
    )


def _cents_after(
    tokens: Sequence[str], spans: Sequence[NumberSpan], index: int, major_at: int
) -> tuple[_Heard | None, int]:
    """The cents said after "dollars" ("and fifty cents", "fifty"): the number right after
    the currency word (an "and" between), below 100; and how many spans it used."""
    if index + 1 >= len(spans):
        return None, 0
    following = spans[index + 1]
    start = major_at + 1
    if start < len(tokens) and tokens[start] == "and":
        start += 1
    if following.start != start:
        return None, 0
    cents = cardinal(tokens[start : following.end])
    if cents is None or cents >= 100:
        return None, 0
    return _Heard(Decimal(cents) / 100, None), 1


def _price(tokens: Sequence[str]) -> Decimal | None:
    """ "twelve fifty" -> 12.50, "three oh five" -> 3.05: whole units, then a two-digit pair."""
    for split in range(len(tokens) - 1, 0, -1):
        head, pair = tokens[:split], tokens[split:]
        whole = cardinal(head)
        cents = _pair(pair)
        if whole is not None and cents is not None and head[-1] not in _SCALE_WORDS:
            return Decimal(whole) + Decimal(cents) / 100
    return None


_SCALE_WORDS = frozenset(SMALL_SCALES) | frozenset(BIG_SCALES)
_SCALE_AFTER = [[word] for word in (*_SCALE_WORDS, *_THOUSANDS, "of")]


def _pair(tokens: Sequence[str]) -> int | None:
    """Two digits said as a group: "fifty", "twenty five", "oh five"."""
    if len(tokens) == 2 and tokens[0] in ZERO_DIGITS and UNITS.get(tokens[1], 0) > 0:
        return UNITS[tokens[1]]
    value = cardinal(tokens)  # a scale word makes it 100 or more
    return value if value is not None and 10 <= value <= 99 else None


def say_amount(value: str, currency: str) -> str:
    """How to say ``value`` back: "12.50" USD -> "twelve dollars and fifty cents"."""
    whole_text, _, cents_text = value.partition(".")
    whole, cents = int(whole_text), int(cents_text or 0)
    names = _NAMES.get(currency)
    if names is None:  # a currency without names here: the figures, then its code spelled
        figures = " point ".join([say_whole(whole), *([say_characters(cents_text)] * bool(cents))])
        return f"{figures} {' '.join(currency)}"
    major_one, major_many, minor_one, minor_many = names
    major = f"{say_whole(whole)} {major_one if whole == 1 else major_many}"
    if not cents:
        return major
    minor = f"{say_whole(cents)} {minor_one if cents == 1 else minor_many}"
    return minor if whole == 0 else f"{major} and {minor}"


def say_whole(number: int) -> str:
    """A non-negative integer in words: 1234 -> "one thousand two hundred thirty four"."""
    if number == 0:
        return "zero"
    parts: list[str] = []
    for word, scale in _SAY_SCALES:
        count, number = divmod(number, scale)
        if count:
            parts.append(f"{_below_thousand(count)} {word}")
    if number:
        parts.append(_below_thousand(number))
    return " ".join(parts)


_SAY_SCALES = tuple(
    sorted(
        [(word, scale) for word, scale in BIG_SCALES.items() if word not in ("lakh", "crore")]
        + [("billion", 10**9), ("million", 10**6), ("thousand", 1000)],
        key=lambda item: -item[1],
    )
)


def _below_thousand(number: int) -> str:
    hundreds, rest = divmod(number, 100)
    parts = [f"{_SAY_UNITS[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, units = divmod(rest, 10)
        parts.append(_SAY_TENS[tens * 10] + (f" {_SAY_UNITS[units]}" if units else ""))
    elif rest >= 10:
        parts.append(_SAY_TEENS[rest])
    elif rest:
        parts.append(_SAY_UNITS[rest])
    return " ".join(parts)
