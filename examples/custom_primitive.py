"""A custom capture primitive, written with public imports only: an order number with a check digit.

An order number here is eight digits, the last a Luhn check digit over the first seven, so most
misheard digits are caught before the number is read back. ``CaptureOrderNumber`` says how to
read one ASR hypothesis (``read``) and how a reply to the readback edits the held number
(``correct``); the n-best vote, readback, confirmation, attempts, state between turns and events
come from ``voicecore.capture``.

Run it (``python examples/custom_primitive.py``) to register it in a ``PrimitiveRegistry``, serve
it in this process and play one caller through a misheard number, a readback, a correction and a
yes, printing what the agent would say. ``--serve PORT`` serves it over gRPC on 127.0.0.1 instead,
beside the built-in primitives, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import ClassVar

from loguru import logger

from voicecore import PrimitiveRegistry, Settings, VoiceCoreService, serve
from voicecore.capture import CaptureParams, CapturePrimitive, HeldValue, Reading, Reply
from voicecore.client import InProcessClient
from voicecore.primitive import PrimitiveParams
from voicecore.primitives import builtin_primitives

LENGTH = 8
DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4"}
DIGITS |= {"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
NAMES = {digit: name for name, digit in DIGITS.items() if name != "oh"}
# "the last digit is six", "the last two digits are eight eight"
TAIL_EDIT = re.compile(r"\blast (?:(?P<count>two|three|four) )?digits? (?:is|are) (?P<digits>.+)")
COUNTS = {"two": 2, "three": 3, "four": 4}


def spoken_digits(text: str) -> str:
    """The digits said in ``text``, as words ("four two") or figures ("42")."""
    tokens = re.findall(r"[a-z]+|\d", text.lower())
    return "".join(token if token.isdigit() else DIGITS.get(token, "") for token in tokens)


def check_digit(payload: str) -> str:
    """The Luhn check digit of ``payload``: every second digit from the right is doubled."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def order_reading(digits: str) -> Reading:
    """``digits`` as an order number, or no value with the reason."""
    if len(digits) != LENGTH:
        return Reading(None, reason="wrong_length", certainty=0.0)
    if check_digit(digits[:-1]) != digits[-1]:
        return Reading(None, reason="bad_check_digit", parts={"digits": digits}, certainty=0.0)
    readback = " ".join(NAMES[digit] for digit in digits)
    return Reading(digits, readback, {"digits": digits})


class CaptureOrderNumber(CapturePrimitive[CaptureParams]):
    """Captures an eight-digit order number whose last digit is a Luhn check digit."""

    name: ClassVar[str] = "capture_order_number"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = "An eight-digit order number with a Luhn check digit."
    params_model: ClassVar[type[PrimitiveParams]] = CaptureParams
    noun: ClassVar[str] = "order number"

    def read(self, text: str, params: CaptureParams, partial: str | None) -> Reading:
        """Digits said over one or more turns; fewer than eight are kept for the next turn."""
        heard = spoken_digits(text)
        if not heard:
            return Reading(None, reason="no_value_heard", certainty=0.0)
        digits = (partial or "") + heard
        if len(digits) < LENGTH:
            readback = " ".join(NAMES[digit] for digit in digits)
            return Reading(None, readback, reason="too_few_digits", partial=digits)
        return order_reading(digits)

    def correct(self, held: HeldValue, reply: Reply, params: CaptureParams) -> Reading | None:
        """Replace the last digits of the held number ("the last two digits are eight eight")."""
        edit = TAIL_EDIT.search(reply.text.lower())
        if edit is None:
            return None
        count = COUNTS.get(edit["count"] or "", 1)
        new = spoken_digits(edit["digits"])
        if len(new) != count:
            return None
        reading = order_reading(held.value[:-count] + new)
        return reading if reading.value is not None else None


CALLER = (
    "my order number is four nine two seven three one eight three",
    "four nine two seven three one five four",
    "no, the last two digits are eight eight",
    "yes",
)


async def main() -> None:
    """Serve the primitive in this process and play the caller's turns."""
    registry = PrimitiveRegistry([CaptureOrderNumber()])
    service = VoiceCoreService(registry, settings=Settings())
    client = InProcessClient(service)
    for said in CALLER:
        response = await client.execute(
            CaptureOrderNumber.name,
            {"transcription": said},
            conversation_id="call-1",
            purpose="look up your delivery",
        )
        assert response.data is not None and response.metadata is not None
        data = response.data.to_dict()
        print(f"caller: {said}")
        print(f"  {response.metadata.state.name}: {data.get('value') or data['reason']}")
        print(f"agent:  {data['prompt']}")
    await client.aclose()


async def serve_over_grpc(port: int) -> None:
    """Serve the built-in primitives and this one on 127.0.0.1:``port``, with voicecore's logs."""
    logger.enable("voicecore")  # a library's logs are off until the application turns them on
    settings = Settings(host="127.0.0.1", port=port)
    registry = PrimitiveRegistry([*builtin_primitives(), CaptureOrderNumber()])
    await serve(settings, VoiceCoreService(registry, settings=settings))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A custom capture primitive: an order number.")
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve it over gRPC instead")
    port = parser.parse_args().serve
    asyncio.run(main() if port is None else serve_over_grpc(port))
