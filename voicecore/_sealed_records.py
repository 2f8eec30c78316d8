"""Idempotency records a primitive seals: what it must not keep in clear is recorded sealed,
and opened again when the record is replayed.

A primitive whose completing response carries data that must never rest in clear
(``capture_card``'s number and CVV) implements ``SealsRecords``; the executor records
``recorded_form`` of its response and answers a replay with ``replayed_form`` of the record.
Sealed rather than left out: a retry of a completing turn whose response was lost must still
get the value, or the caller would have to be asked again, told nothing of why.

The record's request fingerprint is a digest of the params, the transcription among them: a
plain SHA-256 of "my card number is 4111 ..." can be found again by trying the few billion
numbers of a brand's range. So such a primitive keys it too (``recorded_fingerprint``). Its key
may be rotated between a turn and its retry (a retry at a replica that seals with a newer key):
a primitive that ``RotatesFingerprints`` gives the fingerprint under every key it holds, and the
retry matches its record under any of them (``fingerprint_as_recorded``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from voicecore._json import JsonValue, struct_from_dict, struct_to_dict
from voicecore._proto.voicecore.v1 import Error, ErrorCode, ExecutePrimitiveResponse
from voicecore.errors import PrimitiveError
from voicecore.registry import PrimitiveRegistry

__all__ = [
    "RotatesFingerprints",
    "SealsRecords",
    "fingerprint_as_recorded",
    "recorded_fingerprint",
    "recorded_form",
    "replayed_form",
]


@runtime_checkable
class SealsRecords(Protocol):
    """A primitive that seals part of its response ``data`` before it is recorded."""

    def seal_record(self, data: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """``data`` as it may be recorded."""
        ...

    def open_record(self, data: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """Recorded ``data`` as it was answered; a ``PrimitiveError`` if it cannot be opened."""
        ...

    def seal_fingerprint(self, fingerprint: str) -> str:
        """``fingerprint`` keyed, as it may be recorded (never raises)."""
        ...


@runtime_checkable
class RotatesFingerprints(SealsRecords, Protocol):
    """A ``SealsRecords`` primitive whose key can be rotated: it keys fingerprints with each."""

    def seal_fingerprints(self, fingerprint: str) -> frozenset[str]:
        """``fingerprint`` keyed by each key held (``seal_fingerprint``'s among them)."""
        ...


def _sealer(registry: PrimitiveRegistry, objective_type: str) -> SealsRecords | None:
    if objective_type not in registry:
        return None
    primitive = registry.get(objective_type)
    return primitive if isinstance(primitive, SealsRecords) else None


def recorded_fingerprint(registry: PrimitiveRegistry, objective_type: str, fingerprint: str) -> str:
    """The request fingerprint as its record keeps it (itself unless its primitive seals)."""
    sealer = _sealer(registry, objective_type)
    return fingerprint if sealer is None else sealer.seal_fingerprint(fingerprint)


def fingerprint_as_recorded(
    registry: PrimitiveRegistry, objective_type: str, fingerprint: str, recorded: str
) -> str:
    """The request fingerprint to check against a record's (``recorded``): keyed as that record
    was if its key is still held, so a retry after a key rotation still matches its record."""
    sealer = _sealer(registry, objective_type)
    if isinstance(sealer, RotatesFingerprints) and recorded in sealer.seal_fingerprints(
        fingerprint
    ):
        return recorded
    return recorded_fingerprint(registry, objective_type, fingerprint)


def recorded_form(
    registry: PrimitiveRegistry, objective_type: str, response: ExecutePrimitiveResponse
) -> ExecutePrimitiveResponse:
    """``response`` as its idempotency record keeps it (itself unless its primitive seals)."""
    sealer = _sealer(registry, objective_type)
    if sealer is None or response.data is None:
        return response
    sealed = struct_from_dict(sealer.seal_record(struct_to_dict(response.data)))
    return ExecutePrimitiveResponse(
        success=response.success, data=sealed, error=response.error, metadata=response.metadata
    )


def replayed_form(
    registry: PrimitiveRegistry, objective_type: str, response: ExecutePrimitiveResponse
) -> ExecutePrimitiveResponse:
    """A recorded ``response`` opened as it was answered; a record that cannot be opened
    (sealed under another key) answers the primitive's error instead."""
    sealer = _sealer(registry, objective_type)
    if sealer is None or response.data is None:
        return response
    try:
        response.data = struct_from_dict(sealer.open_record(struct_to_dict(response.data)))
    except PrimitiveError as err:
        response.success, response.data = False, None
        response.error = Error(code=ErrorCode[err.code], message=err.message)
    return response
