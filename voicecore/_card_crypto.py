"""Sealing card data: the number and CVV are kept only as ``CardCipher`` tokens.

``capture_card`` never hands the capture machine a card number or CVV in clear: what it reads
is sealed at once, so the capture store (memory or Redis), the idempotency record, events and
logs only ever see a token, and only the response that completes the capture opens it.

The cipher is AES-SIV (RFC 5297, ``cryptography``'s ``AESSIV``), deterministic on purpose: the
capture machine compares values (n-best hypotheses that agree, "the same number again" at the
readback), and equal cards must give equal tokens. It leaks only that two tokens hold the same
card, to whoever can read the store. Its 64-byte key is derived (HKDF-SHA256) from a 32-byte
key: ``Settings.card_key`` (``VOICECORE_CARD_KEY``), shared by every replica, or a random one
per process for an in-memory store, whose states die with the process anyway.

Key rotation: the setting may list several keys, each with an id (``voicecore._card_keys``).
The first seals; a token names the id of its key, ``card1.<id>.<sealed>``, and that id is
associated data, so a token relabelled with another listed id does not open. A token of the
unnamed key (the only key of the releases before ids) is ``card1.<sealed>``, as it always was.
A token whose key is not listed, or that does not open, raises ``CardTokenError``; a capture
state holding one is a lost capture (``voicecore._card_states``). A capture state read is
resealed (``reseal``): its tokens are sealed again with the sealing key before the turn runs,
so they compare equal to what the turn reads, and the state the turn keeps holds none of an
older key.

A shared store without ``card_key`` would need every replica to hold the same key, so card
captures are refused there (``CardKeyMissingError``), while every other primitive is served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from loguru import logger
from pydantic import SecretStr

from voicecore._card_keys import CARD_KEY_BYTES, CardKey, decode_card_key, parse_card_keys
from voicecore.errors import PrimitiveError

__all__ = [
    "CARD_KEY_BYTES",
    "CardCipher",
    "CardKeyMissingError",
    "CardTokenError",
    "card_cipher",
    "decode_card_key",
]

#: Why a token did not open: its key is not listed, or it is not a token of the key it names.
Unopened = Literal["unknown_key", "unopenable"]

_TOKEN_PREFIX: Final = "card1."
_CONTEXT: Final = b"voicecore capture_card v1"
_DIGEST_CONTEXT: Final = b"voicecore capture_card digest v1"
_MISSING_KEY: Final = (
    "capture_card needs a card key with a shared store: set VOICECORE_CARD_KEY (base64 of "
    "32 random bytes, the same on every replica) so card data is kept encrypted"
)


class CardKeyMissingError(PrimitiveError):
    """A card capture on a shared store without ``card_key``: refused, nothing is read.

    ``INVALID_PARAMS`` because the wire has no FAILED_PRECONDITION code; the message says
    what the operator must set, and it is not retryable.
    """

    code = "INVALID_PARAMS"

    def __init__(self) -> None:
        super().__init__(
            _MISSING_KEY,
            details={
                "errors": [
                    {"loc": ["objective_type"], "msg": _MISSING_KEY, "type": "card_key_missing"}
                ]
            },
        )


class CardTokenError(PrimitiveError):
    """A token these keys cannot open: sealed under a key no longer listed (or a per-process
    key of another process), or damaged. ``key_id`` is the id the token names (None: the
    unnamed key), which is no secret and tells an operator which key a replica lacks."""

    code = "INVALID_PARAMS"

    def __init__(self, why: Unopened = "unopenable", key_id: str | None = None) -> None:
        self.why: Unopened = why
        self.key_id = key_id
        message = "card data was sealed with another card key; start the card capture again"
        super().__init__(
            message,
            details={"errors": [{"loc": ["card"], "msg": message, "type": "card_key_changed"}]},
        )


class CardCipher:
    """Seals card data with its first key and opens it with any of its keys; a refusing
    cipher (no key) raises ``CardKeyMissingError`` on use.

    ``CardCipher(key)`` holds one unnamed key; ``CardCipher.ring(keys)`` the keys of a
    rotation, the sealing one first.
    """

    def __init__(self, key: bytes | None) -> None:
        self._keys: dict[str | None, AESSIV] = {}
        self._sealing: CardKey | None = None
        if key is None:
            # Digests must still hide what they digest: keyed, by this process alone.
            self._digest_keys = [os.urandom(CARD_KEY_BYTES)]
            return
        self._add(CardKey(None, key))

    @classmethod
    def ring(cls, keys: Sequence[CardKey]) -> CardCipher:
        """A cipher that seals with ``keys[0]`` and opens with any of ``keys``."""
        if not keys:
            raise ValueError("a card key ring needs a key")
        cipher = cls(None)
        for key in keys:
            cipher._add(key)
        return cipher

    @classmethod
    def random(cls) -> CardCipher:
        """A cipher with a key of its own, for one process's in-memory store."""
        return cls(os.urandom(CARD_KEY_BYTES))

    @property
    def refuses(self) -> bool:
        """Whether this cipher has no key (card captures are refused)."""
        return not self._keys

    def seal(self, text: str, bound_to: bytes = b"") -> str:
        """``text`` as a token ("card1.", the key's id and ".", URL-safe base64); equal texts,
        equal tokens. ``bound_to`` (associated data: the capture it belongs to) must be given
        again to open it, so a token copied into another capture's state opens nowhere else."""
        if self._sealing is None:
            raise CardKeyMissingError()
        key_id = self._sealing.id
        sealed = self._keys[key_id].encrypt(text.encode(), _associated(key_id, bound_to))
        named = "" if key_id is None else key_id + "."
        return _TOKEN_PREFIX + named + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, token: str, bound_to: bytes = b"") -> str:
        """The text ``token`` seals; ``CardTokenError`` if its key is not one of these, or it
        was not sealed by that key bound to ``bound_to``."""
        if self._sealing is None:
            raise CardKeyMissingError()
        key_id, _, body = token.removeprefix(_TOKEN_PREFIX).rpartition(".")
        named = key_id or None
        aead = self._keys.get(named)
        if aead is None:
            raise CardTokenError("unknown_key", named)
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return aead.decrypt(sealed, _associated(named, bound_to)).decode()
        except (InvalidTag, ValueError):
            raise CardTokenError("unopenable", named) from None

    def reseal(self, token: str, bound_to: bytes = b"") -> str:
        """``token`` opened and sealed again with the sealing key: what ``seal`` gives for its
        text now (the token itself if that key sealed it). ``CardTokenError`` as ``open``."""
        return self.seal(self.open(token, bound_to), bound_to)

    def digest(self, text: str) -> str:
        """A keyed digest of ``text`` (HMAC-SHA256, with the sealing key): equal texts, equal
        digests, and nothing to guess the text from without the key. A refusing cipher
        digests with a key of its own process."""
        return hmac.new(self._digest_keys[0], text.encode(), hashlib.sha256).hexdigest()

    def digests(self, text: str) -> frozenset[str]:
        """``text``'s digest under each key listed: a digest made before a rotation (by the
        key that sealed then) is one of them while that key is listed."""
        return frozenset(
            hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for key in self._digest_keys
        )

    def _add(self, key: CardKey) -> None:
        if len(key.secret) != CARD_KEY_BYTES:
            raise ValueError(f"a card key is {CARD_KEY_BYTES} bytes")
        digest_key = _derived(key.secret, _DIGEST_CONTEXT, CARD_KEY_BYTES)
        if not self._keys:
            self._sealing, self._digest_keys = key, []
        self._digest_keys.append(digest_key)
        self._keys[key.id] = AESSIV(_derived(key.secret, _CONTEXT, 64))


def _associated(key_id: str | None, bound_to: bytes) -> list[bytes]:
    """What a token is bound to besides its text: the key's id (so a token relabelled with
    another id does not open) and the capture. The unnamed key's are as they always were."""
    if key_id is None:
        return [_CONTEXT, bound_to]
    return [_CONTEXT, key_id.encode(), bound_to]


def _derived(key: bytes, context: bytes, length: int) -> bytes:
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=context).derive(key)


def card_cipher(key: SecretStr | None, *, shared_store: bool) -> CardCipher:
    """The cipher a server uses: the keys ``key`` (``Settings.card_key``) lists if set; else
    a random one for an in-memory store, or, for a shared store, one that refuses card
    captures (with a WARNING now, so the operator learns it at start, not from a failed
    call)."""
    if key is not None:
        return CardCipher.ring(parse_card_keys(key.get_secret_value()))
    if not shared_store:
        return CardCipher.random()
    logger.warning("capture_card refused: a shared store needs VOICECORE_CARD_KEY")
    return CardCipher(None)
