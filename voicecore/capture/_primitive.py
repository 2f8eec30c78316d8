"""``CapturePrimitive``: the base of every primitive that captures one value over turns."""

from __future__ import annotations

import abc
from dataclasses import replace
from typing import ClassVar, TypeVar

from voicecore.capture._events import CAPTURE_EVENT_TYPES
from voicecore.capture._keypad import STARTED_OVER, after_restart
from voicecore.capture._params import CaptureParams
from voicecore.capture._reading import Reading, Reply
from voicecore.capture._state import HeldValue
from voicecore.capture._turn import run_turn
from voicecore.primitive import Primitive, PrimitiveContext, PrimitiveParams, PrimitiveResult

__all__ = ["CapturePrimitive"]

CaptureParamsT = TypeVar("CaptureParamsT", bound=CaptureParams)


class CapturePrimitive(Primitive[CaptureParamsT], abc.ABC):
    """A primitive that captures one value over one or more turns.

    A subclass says how to read one ASR hypothesis (``read``) and, optionally, how a reply to
    the readback edits the held value (``correct``); choosing among the n-best hypotheses and
    moving the capture through its states is shared, so every capture behaves the same.
    """

    params_model: ClassVar[type[PrimitiveParams]] = CaptureParams
    event_types: ClassVar[tuple[str, ...]] = CAPTURE_EVENT_TYPES
    #: What the prompt calls the value, e.g. "email address".
    noun: ClassVar[str] = "value"

    @abc.abstractmethod
    def read(self, text: str, params: CaptureParamsT, partial: str | None) -> Reading:
        """Read one hypothesis; ``partial`` is what earlier turns kept, if anything."""

    def correct(self, held: HeldValue, reply: Reply, params: CaptureParamsT) -> Reading | None:
        """Apply a reply that edits ``held`` in part ("s as in sam"); None if it does not.

        ``reply`` is what the machine understood of one hypothesis: its yes/no head and the
        words after it. ``held.parts`` carry what the value alone does not (a phone's
        extension), for an edit that should keep it. Without an edit, the machine reads
        ``reply.text`` as a new value.
        """
        return None

    def read_keys(self, keys: str, params: CaptureParamsT, partial: str | None) -> Reading:
        """Read a keypad entry: the keys before any "#" (``voicecore.capture._keypad``).

        By default the keys after the last "*" (which drops ``partial`` too) must be digits,
        and are read with ``read`` as written digits; a value so read is exact (certainty 1).
        Nothing after the "*" only starts over (reason ``STARTED_OVER``).
        Only a primitive whose params take ``dtmf`` (``KeypadCaptureParams``) gets keys.
        """
        digits, restarted = after_restart(keys)
        if not digits.isdigit():
            reason = "invalid_keys" if digits else STARTED_OVER
            return Reading(value=None, reason=reason, certainty=0.0)
        reading = self.read(digits, params, None if restarted else partial)
        return reading if reading.value is None else replace(reading, certainty=1.0)

    async def execute(self, params: CaptureParamsT, ctx: PrimitiveContext) -> PrimitiveResult:
        """Run one turn of the capture state machine."""
        return await run_turn(self, params, ctx)
