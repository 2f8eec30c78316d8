"""The primitives voicecore serves: the built-in list and the diagnostic set.

Their contract is ``voicecore.primitive``; the capture primitives build on ``voicecore.capture``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voicecore.primitive import Primitive

if TYPE_CHECKING:
    from voicecore._card_crypto import CardCipher

__all__ = ["builtin_primitives", "debug_primitive_set"]


def builtin_primitives(*, card_cipher: CardCipher | None = None) -> list[Primitive[Any]]:
    """One instance of every production primitive; ``capture_card`` seals with
    ``card_cipher`` (None: a random key of its own)."""
    from voicecore.primitives.address import CaptureAddress
    from voicecore.primitives.amount import CaptureAmount
    from voicecore.primitives.card import CaptureCard
    from voicecore.primitives.choice import CaptureChoice
    from voicecore.primitives.confirm import Confirm
    from voicecore.primitives.date import CaptureDate
    from voicecore.primitives.digits import CaptureDigits
    from voicecore.primitives.email import CaptureEmail
    from voicecore.primitives.name import CaptureName
    from voicecore.primitives.number import CaptureNumber
    from voicecore.primitives.phone import CapturePhone
    from voicecore.primitives.time import CaptureTime

    return [
        CaptureEmail(),
        CapturePhone(),
        CaptureDate(),
        CaptureTime(),
        CaptureNumber(),
        CaptureDigits(),
        CaptureName(),
        CaptureAmount(),
        CaptureChoice(),
        CaptureAddress(),
        CaptureCard(card_cipher),
        Confirm(),
    ]


def debug_primitive_set() -> list[Primitive[Any]]:
    """The diagnostic primitives for tests and benchmarks (``--debug-primitives``)."""
    from voicecore.primitives.debug import DebugEcho, DebugFlaky, DebugSleep

    return [DebugEcho(), DebugFlaky(), DebugSleep()]
