"""The card keys a server holds: ``Settings.card_key`` read as one key or a key ring.

``VOICECORE_CARD_KEY`` is one key, or several separated by commas, each ``<id>:<base64>``:
``"k2:<base64>,k1:<base64>"``. The first key seals; every key listed opens what it sealed,
since a sealed value names the id of its key. So an operator rotates the key of a fleet
without losing a capture held between turns: list the new key after the old on every replica,
then before it, then (once every capture sealed with the old one has ended or expired) drop it.

A key without an id (the format of the releases before key ids: just ``<base64>``) is the
"unnamed" key; values it seals name no key, as before, so replicas of an earlier release still
open them during an upgrade. At most one key may be unnamed.

Every message here names what is wrong and where (the entry's position), never the key.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

__all__ = ["CARD_KEY_BYTES", "KEY_ID", "CardKey", "decode_card_key", "parse_card_keys"]

#: The length of one card key once base64-decoded.
CARD_KEY_BYTES: Final = 32
#: A key id: short, and free of the separators of the setting (",", ":") and of a token (".").
KEY_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,16}")


@dataclass(frozen=True, slots=True)
class CardKey:
    """One card key: ``id`` None for the unnamed key."""

    id: str | None
    secret: bytes

    def __repr__(self) -> str:
        return f"CardKey(id={self.id!r}, secret=...)"  # never the key


def decode_card_key(text: str) -> bytes:
    """The key ``text`` (base64, standard or URL-safe) names; ``ValueError`` if it is not
    ``CARD_KEY_BYTES`` bytes."""
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error:
        raise ValueError("card_key should be base64") from None
    if len(key) != CARD_KEY_BYTES:
        raise ValueError(f"card_key should be base64 of {CARD_KEY_BYTES} bytes, not {len(key)}")
    return key


def parse_card_keys(text: str) -> tuple[CardKey, ...]:
    """The keys ``text`` lists, the sealing one first; ``ValueError`` naming the entry (by
    position, never its text) that is not a key, a bad id, a repeated id, or a second
    unnamed key."""
    entries = [entry.strip() for entry in text.split(",")]
    if len(entries) == 1:
        return (_entry_key(entries[0], "card_key"),)
    keys = tuple(
        _entry_key(entry, f"card_key entry {position}") for position, entry in enumerate(entries, 1)
    )
    ids = [key.id for key in keys]
    if ids.count(None) > 1:
        raise ValueError("card_key lists more than one key without an id")
    named = [key_id for key_id in ids if key_id is not None]
    if len(set(named)) != len(named):
        raise ValueError("card_key lists a key id twice")
    return keys


def _entry_key(entry: str, where: str) -> CardKey:
    """The key of one entry; ``where`` names it in a message ("card_key entry 2")."""
    key_id, colon, secret = entry.rpartition(":")
    if colon and not KEY_ID.fullmatch(key_id):
        raise ValueError(f"{where}: a key id is 1 to 16 letters, digits, '-' or '_'")
    try:
        return CardKey(key_id if colon else None, decode_card_key(secret))
    except ValueError as err:
        raise ValueError(str(err).replace("card_key", where, 1)) from None
