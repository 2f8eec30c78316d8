"""``capture_card``: a payment card: number, expiry and CVV, said or keyed over one or more turns.

The caller may say everything at once ("4111 1111 1111 1111, expires 04/27, CVV 123") or part
by part: unlabeled digits go to the number until it is whole (13 digits or more), then to the
expiry, then to the CVV; "expires ...", "security code ..." and "card number ..." say which
part digits are, written as formatting ASRs write them too ("CVV237", "CV 123", "Valed through
04 27"); digits heard alike ("for", "to"; "or" for "oh") are read as digits, less certain.
Three or four digits alone are the part still asked for: the CVV when no
expiry is asked for or one is held (an American Express "1228" is a code, not December
2028), the expiry when no CVV is asked for or one is held ("four twenty eight" is 04/28);
with both missing, four digits that are a month and year are the expiry (asked for first),
others the CVV. Four digits that are no date ("1399") where the expiry is missing are the CVV
only if the brand's code is four digits (American Express); else an expiry that doesn't look
right (``expiry_out_of_range``), never shown, not a code of the wrong length. A part
missing is asked for (``reason`` ``need_more_digits``, ``need_expiry``, ``need_cvv``),
without spending an attempt. The number must pass the Luhn
check and match a brand's IIN range and length (``luhn_failed``: "that number doesn't check
out"; ``unknown_brand``, ``wrong_length``); the expiry (``MM/YY``; "oh four twenty seven",
"april twenty seven", "04/27") must not be past, relative to ``reference_date`` (the
conversation's today), nor more than 20 years ahead (``card_expired``,
``expiry_out_of_range``); the CVV is three digits, four for American Express
(``wrong_cvv_length``). Keypad input: "4111111111111111#", "0427#", "123#" in three turns, or
all in one entry: "4111111111111111#0427#123#", where each "#" ends a part, or with no "#"
between ("41111111111111110427123#"). An entry of several "#"-ended parts is read as if
each part had been keyed in a turn of its own, one after another: each fills the parts the
capture still asks for, in order (number, then expiry and CVV if asked for); "*" keeps its
meaning, starting over (the keys before it, earlier parts of the entry included, and the
partial card kept are dropped); reading stops at a part that gives no card (its reason is the
turn's) or completes it (later parts are not read).

Privacy: the number and CVV are sealed (``voicecore._card_crypto``) the moment they are
read, so the capture machine, the capture store and the logs only ever hold a token, and the
events the number masked but for its last four (``voicecore.primitives._card_events``).
``data`` has ``brand``, ``last4`` and ``expiry`` (``MM/YY``); ``data.value`` is the number
masked the same way ("************1111") until the response that completes the capture,
which alone carries the digits in ``data.value`` and the CVV in ``data.cvv``. The
idempotency record of that response keeps them sealed with the same key, so a retry of a
completing turn whose response was lost still gets the card. The readback says only the
brand and last four: "a Visa ending in one one one one, expiring April 2027".
A corrected part ("no, the expiry is oh five twenty eight", "the security code is 456", a
new number) replaces that part and keeps the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import ClassVar, Final

from pydantic import Field

from voicecore._card_crypto import CardCipher
from voicecore._card_states import OpenableStates
from voicecore._json import JsonValue
from voicecore.capture import (
    CapturePrimitive,
    HeldValue,
    KeypadCaptureParams,
    Reading,
    Reply,
    redact,
    run_turn,
)
from voicecore.capture._expiry import LostListener
from voicecore.primitive import PrimitiveContext, PrimitiveResult, PrimitiveState
from voicecore.primitives._card_events import HeldEvents, SeenStates
from voicecore.primitives._card_parts import (
    BRANDS,
    MAX_YEARS_AHEAD,
    MIN_NUMBER,
    Asked,
    Brand,
    CardParts,
    Expiry,
    brand_of,
    heard_alike,
    heard_parts,
    luhn_valid,
)
from voicecore.spoken.digits import say_digits
from voicecore.spoken.tokens import after_correction, drop_fillers, without_opening_oh, words

__all__ = ["CaptureCard", "CaptureCardParams"]

_SPOKEN_CERTAINTY: Final = 0.95
# A digit read from a word that sounds like it ("for", "or" for "oh"): less sure.
_HEARD_ALIKE_CERTAINTY: Final = 0.8
_MONTH_NAMES: Final = (
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
)
_MASK: Final = "*"
_END_KEY: Final = "#"
_RESTART_KEY: Final = "*"
_BRANDS_BY_ID: Final = {brand.id: brand for brand in BRANDS}
# Prompts for what the card reading knows went wrong or is missing (``{noun}`` is "card").
_PROMPTS: Final = {
    "need_more_digits": "I have the first {count} digits. Please go on with the card number.",
    "need_number": "Thanks. And what's the card number?",
    "need_expiry": "Thanks, I have {card}. What's the expiration date on the card?",
    "need_cvv": "And the {cvv_length}-digit security code?",
    "luhn_failed": "Sorry, that number doesn't check out. Could you read me the card number again?",
    "unknown_brand": "Sorry, I don't recognize that card number. Could you read it again?",
    "wrong_length": "Sorry, that card number has the wrong number of digits. Could you read "
    "it again?",
    "card_expired": "That card expired in {expired}. Do you have another card, or could you "
    "check the expiration date?",
    "expiry_out_of_range": "Sorry, that expiration date doesn't look right. What's the "
    "expiration date on the card?",
    "wrong_cvv_length": "The security code on {brand_name} is {cvv_length} digits. Could you "
    "read it again?",
}


class CaptureCardParams(KeypadCaptureParams):
    """Params of ``capture_card``: which parts are asked for, and the conversation's today.

    ``reference_date`` is the conversation's today (default: today in UTC): an expiry before
    its month is past; one more than 20 years after it is not a card's.

    ``dtmf`` may key the whole card in one entry, "4111111111111111#1228#123#": each "#" ends
    a part, and the parts fill those asked for in order, as if keyed in turns one after
    another ("*" still starts over, dropping every key before it).
    """

    require_expiry: bool = True
    require_cvv: bool = True
    reference_date: date | None = Field(default=None)

    def today(self) -> date:
        """The reference date, or today's date in UTC."""
        return self.reference_date or datetime.now(UTC).date()


class CaptureCard(CapturePrimitive[CaptureCardParams]):
    """Capture a payment card: number, expiry and CVV (see the module docstring).

    ``cipher`` seals the card data; None gives this instance a random key of its own, which
    suits an in-memory store (``voicecore._card_crypto.card_cipher`` chooses for
    a server).
    """

    name: ClassVar[str] = "capture_card"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Capture a payment card (number, expiry, CVV); only brand and last four are ever "
        "shown until the capture completes."
    )
    noun: ClassVar[str] = "card"
    params_model = CaptureCardParams

    def __init__(self, cipher: CardCipher | None = None) -> None:
        self._cipher = cipher or CardCipher.random()
        #: Told of each capture lost because its card data does not open (a server counts them).
        self.on_lost: list[LostListener] = []

    async def execute(self, params: CaptureCardParams, ctx: PrimitiveContext) -> PrimitiveResult:
        """One turn of the capture; ``data`` shows the digits only when it completes."""
        if self._cipher.refuses:
            self._cipher.seal("")  # raises CardKeyMissingError: nothing is read
        bound = _BOUND.set(_capture_of(ctx))
        try:
            seen, events = (
                SeenStates(OpenableStates(ctx.captures, self._resealed, self.on_lost)),
                HeldEvents(),
            )
            result = await run_turn(self, params, replace(ctx, captures=seen, emit=events.emit))
            held = [state.held.value for state in seen.read if state.held is not None]
            value = result.data.get("value")
            tokens = [*held, *([value] if isinstance(value, str) else [])]
            await events.release(
                ctx.emit, {redact(token): self._masked_token(token) for token in tokens}
            )
            result.data = self._shown(result.data, result.state)
        finally:
            _BOUND.reset(bound)
        return result

    def read(self, text: str, params: CaptureCardParams, partial: str | None) -> Reading:
        """Read the card parts in ``text`` after those ``partial`` (a token) holds. An opening
        "oh" is an interjection when only the words without it read ("oh, four one one one
        ...": no card number starts with a zero), as capture_digits and capture_phone do; when
        neither reads, its reason is the better one for the same cause."""
        reading = self._read_said(text, params, partial)
        without_oh = without_opening_oh(text)
        if _refused(reading) and without_oh is not None:
            return self._read_said(without_oh, params, partial)
        return reading

    def _read_said(self, text: str, params: CaptureCardParams, partial: str | None) -> Reading:
        known = self._opened(partial)
        tokens = after_correction(drop_fillers(words(text)))
        heard = heard_parts(tokens, known, filling=True, asked=_asked(params))
        if heard is None:
            return Reading(value=None, reason="no_value_heard")
        certainty = _HEARD_ALIKE_CERTAINTY if heard_alike(tokens) else _SPOKEN_CERTAINTY
        return self._judged(known.merged(heard), params, certainty)

    def read_keys(self, keys: str, params: CaptureCardParams, partial: str | None) -> Reading:
        """The entry's "#"-ended parts read in order, each as written digits (the default) on
        what the ones before it kept (see the module docstring); exact, so certainty 1.

        ``keys`` is the entry up to its first "#"; the parts after it are in ``params.dtmf``.
        """
        reading = Reading(value=None, reason="no_value_heard", certainty=0.0)
        for part in _keyed_parts(keys, params):
            reading = super().read_keys(part, params, partial)
            if reading.partial is None and not part.endswith(_RESTART_KEY):
                break  # a whole card, or none (a part ending in "*" only starts over)
            partial = reading.partial
        return replace(reading, certainty=1.0) if reading.partial else reading

    def correct(self, held: HeldValue, reply: Reply, params: CaptureCardParams) -> Reading | None:
        """Replace the parts the reply says ("the expiry is 05/28", "CVV 456", a number)."""
        known = self._opened(held.value)
        tokens = drop_fillers(words(reply.edit_text))
        heard = heard_parts(tokens, known, filling=False, asked=_asked(params))
        if heard is None:
            return None
        return self._judged(known.merged(heard), params, _SPOKEN_CERTAINTY)

    def seal_record(self, data: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """``data`` fit for the idempotency record: the digits and CVV of a completing
        response sealed (a retry still gets them, opened by ``open_record``)."""
        return {
            key: self._cipher.seal(value)
            if key in ("value", "cvv") and isinstance(value, str) and value.isdigit()
            else value
            for key, value in data.items()
        }

    def open_record(self, data: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """``data`` as ``seal_record`` had it before sealing."""
        return {
            key: self._cipher.open(value)
            if key in ("value", "cvv") and isinstance(value, str) and _is_token(value)
            else value
            for key, value in data.items()
        }

    def seal_fingerprint(self, fingerprint: str) -> str:
        """The request fingerprint keyed: it digests the transcription, card number and all."""
        return self._cipher.digest(fingerprint)

    def seal_fingerprints(self, fingerprint: str) -> frozenset[str]:
        """The request fingerprint keyed by each card key listed (a retry after a rotation)."""
        return self._cipher.digests(fingerprint)

    # -- reading ---------------------------------------------------------------------------

    def _opened(self, token: str | None) -> CardParts:
        return self._parts(token) if token else CardParts()

    def _judged(self, parts: CardParts, params: CaptureCardParams, certainty: float) -> Reading:
        """``parts`` checked: a value when every part asked for is there and valid, a
        partial value when some are missing, or no value with the reason."""
        brand = brand_of(parts.number)
        if (problem := _number_problem(parts.number, brand)) is not None:
            return Reading(value=None, reason=problem, parts=_brand_parts(brand), certainty=0.0)
        if parts.bad_expiry:  # its digits are never shown: they may be a code keyed early
            return Reading(value=None, reason="expiry_out_of_range", certainty=0.0)
        if (problem := _expiry_problem(parts.expiry, params.today())) is not None:
            assert parts.expiry is not None  # a problem needs an expiry
            shown: dict[str, JsonValue] = {"expiry": parts.expiry.written}
            return Reading(value=None, reason=problem, parts=shown, certainty=0.0)
        if parts.cvv and not _cvv_fits(parts.cvv, brand):
            return Reading(
                value=None, reason="wrong_cvv_length", parts=_brand_parts(brand), certainty=0.0
            )
        shown = {**_number_parts(parts.number, brand), **_expiry_parts(parts.expiry)}
        missing = _missing(parts, params)
        sealed = self._cipher.seal(parts.sealed_text(), _BOUND.get())
        if missing is not None:
            shown["missing"] = missing
            return Reading(
                value=None,
                reason=missing,
                readback=_readback(parts, brand),
                parts=shown,
                certainty=certainty,
                partial=sealed,
            )
        return Reading(
            value=sealed, readback=_readback(parts, brand), parts=shown, certainty=certainty
        )

    # -- what the response shows -------------------------------------------------------------

    def _shown(self, data: dict[str, JsonValue], state: PrimitiveState) -> dict[str, JsonValue]:
        """``data`` with every token opened into what may be shown: the masked number, or
        (completing) the digits and CVV; the prompt said for the card's reasons."""
        shown = dict(data)
        shown.pop("partial", None)
        value = shown.get("value")
        if isinstance(value, str):
            parts = self._parts(value)
            if state is PrimitiveState.COMPLETED:
                shown["value"] = parts.number
                if parts.cvv:
                    shown["cvv"] = parts.cvv
            else:
                shown["value"] = _masked(parts.number)
        candidates = shown.get("candidates")
        if isinstance(candidates, list):
            shown["candidates"] = [self._masked_candidate(item) for item in candidates]
        unconfirmed = shown.get("unconfirmed_value")
        if isinstance(unconfirmed, str):
            shown["unconfirmed_value"] = self._masked_token(unconfirmed)
        prompt = _card_prompt(shown, state)
        if prompt is not None:
            shown["prompt"] = prompt
        return shown

    def _masked_candidate(self, item: JsonValue) -> JsonValue:
        assert isinstance(item, dict)  # run_turn writes candidates as objects
        value = item["value"]
        assert isinstance(value, str)
        return {**item, "value": self._masked_token(value)}

    def _masked_token(self, token: str) -> str:
        return _masked(self._parts(token).number)

    def _resealed(self, token: str) -> str:
        return self._cipher.reseal(token, _BOUND.get())

    def _parts(self, token: str) -> CardParts:
        return CardParts.from_sealed_text(self._cipher.open(token, _BOUND.get()))


#: The capture whose turn runs (tenant, conversation, objective type), which the card data it
#: seals is bound to: a token copied into another capture's state does not open there. The
#: idempotency record's tokens are bound to nothing: a record is found by the keyed digest of
#: the request, which a copy into another conversation's record does not match.
_BOUND: ContextVar[bytes] = ContextVar("voicecore_card_capture", default=b"")


def _capture_of(ctx: PrimitiveContext) -> bytes:
    fields = (ctx.tenant, ctx.conversation_id, ctx.objective_type)
    return b"".join(b"%d:%s" % (len(f.encode()), f.encode()) for f in fields)


def _asked(params: CaptureCardParams) -> Asked:
    return Asked(expiry=params.require_expiry, cvv=params.require_cvv)


def _keyed_parts(keys: str, params: CaptureCardParams) -> list[str]:
    """The parts of a keypad entry, each ended by "#" (an empty one, "##", is no part):
    ``keys`` alone when ``params`` carry no ``dtmf`` it begins."""
    entry = params.dtmf if params.dtmf and params.dtmf.startswith(keys) else keys
    return [part for part in entry.split(_END_KEY) if part]


def _is_token(value: str) -> bool:
    return value.startswith("card1.")


def _masked(number: str) -> str:
    """The number as it may be shown: all but the last four masked."""
    return _MASK * (len(number) - 4) + number[-4:]


def _number_problem(number: str, brand: Brand | None) -> str | None:
    if not number or len(number) < MIN_NUMBER:
        return None
    if brand is None:
        return "unknown_brand"
    if len(number) not in brand.lengths:
        return "wrong_length"
    return None if luhn_valid(number) else "luhn_failed"


def _expiry_problem(expiry: Expiry | None, today: date) -> str | None:
    if expiry is None:
        return None
    if expiry.expired(today):
        return "card_expired"
    return "expiry_out_of_range" if expiry.year > today.year + MAX_YEARS_AHEAD else None


def _cvv_fits(cvv: str, brand: Brand | None) -> bool:
    return len(cvv) in (3, 4) if brand is None else len(cvv) == brand.cvv_length


def _missing(parts: CardParts, params: CaptureCardParams) -> str | None:
    """The reason of a partial card: the first part still missing; None when whole."""
    if not parts.number:
        return "need_number"
    if len(parts.number) < MIN_NUMBER:
        return "need_more_digits"
    if params.require_expiry and parts.expiry is None:
        return "need_expiry"
    if params.require_cvv and not parts.cvv:
        return "need_cvv"
    return None


def _brand_parts(brand: Brand | None) -> dict[str, JsonValue]:
    return {"brand": brand.id} if brand is not None else {}


def _number_parts(number: str, brand: Brand | None) -> dict[str, JsonValue]:
    """What may be shown of a number that passed its checks: brand and last four, or how
    many digits were heard of one not yet whole."""
    if len(number) < MIN_NUMBER:
        return {"digits_heard": len(number)} if number else {}
    return {**_brand_parts(brand), "last4": number[-4:]}


def _expiry_parts(expiry: Expiry | None) -> dict[str, JsonValue]:
    return {"expiry": expiry.written} if expiry is not None else {}


def _refused(reading: Reading) -> bool:
    """Whether ``reading`` kept nothing: no value, and no partial card to go on with."""
    return reading.value is None and reading.partial is None


def _readback(parts: CardParts, brand: Brand | None) -> str:
    """ "a Visa ending in one one one one, expiring April 2027": never more of the number."""
    if brand is None or len(parts.number) < MIN_NUMBER:
        return f"the first {len(parts.number)} digits" if parts.number else "no card number yet"
    said = f"{_said_brand(brand)} ending in {say_digits(parts.number[-4:])}"
    if parts.expiry is not None:
        said += f", expiring {_MONTH_NAMES[parts.expiry.month - 1]} {parts.expiry.year}"
    return said


def _card_prompt(data: Mapping[str, JsonValue], state: PrimitiveState) -> str | None:
    """The card's own prompt for an INCOMPLETE turn whose reason it knows."""
    reason = data.get("reason")
    if state is not PrimitiveState.INCOMPLETE or not isinstance(reason, str):
        return None
    template = _PROMPTS.get(reason)
    if template is None:
        return None
    brand = _BRANDS_BY_ID.get(str(data.get("brand", "")))
    last4 = str(data.get("last4", ""))
    expiry = str(data.get("expiry", "01/00"))
    month, year = expiry.split("/")
    return template.format(
        count=data.get("digits_heard", ""),
        card=_said_brand(brand) + (f" ending in {say_digits(last4)}" if last4 else ""),
        cvv_length="four" if brand is not None and brand.cvv_length == 4 else "three",
        brand_name=_said_brand(brand),
        expired=f"{_MONTH_NAMES[int(month) - 1]} 20{year}",
    )


def _said_brand(brand: Brand | None) -> str:
    """ "a Visa", "an American Express", "a card"."""
    name = brand.name if brand is not None else "card"
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"
