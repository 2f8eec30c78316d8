"""Conversations from issue 13: what the caller gave is kept, and prompts say what went wrong."""

from __future__ import annotations

import itertools

from tests._cases import cases
from tests._replies import held_value, reply_of
from tests.unit.primitives.test_caller_cases import COMPLETED, INCOMPLETE, NC, execute
from voicecore._proto.voicecore.v1 import PrimitiveState
from voicecore.capture._prompts import said_digits
from voicecore.primitives.phone import CapturePhone, CapturePhoneParams
from voicecore.service import VoiceCoreService

_CALLS = itertools.count()
SERVICE = VoiceCoreService.from_settings()


async def conversation(objective_type: str, *turns: str) -> list[tuple[PrimitiveState, object]]:
    call = f"issue13-{next(_CALLS)}"
    outcomes = [await execute(SERVICE, objective_type, said, call) for said in turns]
    return [(outcome.state, outcome.value) for outcome in outcomes]


async def test_corrections_of_an_address_keep_or_fix_it() -> None:
    """On peter-12@outlook.com, "no it's p e t e r dash one three" replaces the local part and
    "the last digit is three" edits it; neither drops the address (once: FAILED in 4 turns)."""
    said = ["peter dash one two at outlook dot com", "no it's p e t e r dash one three"]
    assert await conversation("capture_email", *said, "yes") == [
        (NC, "peter-12@outlook.com"),
        (NC, "peter-13@outlook.com"),
        (COMPLETED, "peter-13@outlook.com"),
    ]
    assert (await conversation("capture_email", said[0], "the last digit is three"))[-1] == (
        NC,
        "peter-13@outlook.com",
    )


async def test_an_unclear_correction_keeps_the_address_and_asks_precisely() -> None:
    """A correction not understood reads the held address back with a precise question."""
    call = f"issue13-{next(_CALLS)}"
    await execute(SERVICE, "capture_email", "peter dash one two at outlook dot com", call)
    unclear = await execute(SERVICE, "capture_email", "no, the one at the end, you know", call)
    assert (unclear.state, unclear.value, unclear.data["attempts"]) == (
        NC,
        "peter-12@outlook.com",
        1,
    )
    assert unclear.data["prompt"].startswith("Sorry, I didn't catch what to change. I have your")


async def test_an_invalid_number_says_what_was_heard() -> None:
    """ "555 123 4567" is no valid US number: the prompt says the digits heard."""
    outcome = await execute(SERVICE, "capture_phone", "555 123 4567")
    assert (outcome.state, outcome.data["reason"]) == (INCOMPLETE, "invalid_phone")
    assert outcome.data["prompt"] == (
        "I heard 555 123 4567, but that doesn't look like a valid phone number. "
        "Could you tell me your phone number again?"
    )


async def test_an_out_of_range_number_says_what_was_heard() -> None:
    """A number outside the bounds is said back with why it is not taken."""
    outcome = await execute(SERVICE, "capture_number", "five hundred", max_value=100)
    assert outcome.data["prompt"] == (
        "I heard 500, but that's outside what I can accept. Could you tell me your number again?"
    )


@cases(
    "first, correction",
    [
        ("four one five five five five zero one eight two", "the last digit is three"),
        ("one four one five five five five zero one eight two", "the last digit is three"),
        ("plus one four one five five five five zero one eight two", "the last digit is three"),
        ("(415) 555-0182", "change the two to a three"),
    ],
)
async def test_digits_keep_one_form_across_turns(first: str, correction: str) -> None:
    """data.digits of a corrected number is in the form the caller's first turn gave."""
    call = f"issue13-{next(_CALLS)}"
    held = await execute(SERVICE, "capture_phone", first, call)
    corrected = await execute(SERVICE, "capture_phone", correction, call)
    assert corrected.value == "+14155550183"
    assert corrected.data["digits"] == str(held.data["digits"])[:-1] + "3"


@cases(
    "digits, said",
    [
        ("5551234567", "555 123 4567"),
        ("15551234567", "1 555 123 4567"),
        ("+441231235678", "+441 231 235 678"),
        ("1234", "1234"),
        ("12345", "123 45"),
        ("1234567", "123 4567"),
    ],
)
def test_said_digits(digits: str, said: str) -> None:
    """Digits are grouped the way people say them, no digit left alone at the end."""
    assert said_digits(digits) == said


@cases("digits", ["4155550100", None])
def test_a_corrected_number_said_in_another_form_is_given_in_e164(digits: str | None) -> None:
    """Held digits that do not end in the national number, or none (hand-made held values),
    give the corrected number's digits in E.164 form."""
    parts = {"extension": ""} | ({"digits": digits} if digits else {})
    held = held_value("+14155550182", **parts)
    params = CapturePhoneParams(transcription="the last digit is three")
    reading = CapturePhone().correct(held, reply_of("the last digit is three"), params)
    assert reading is not None and reading.parts["digits"] == "+14155550183"
