"""Sealing card data: the number and CVV are kept only as ``CardCipher`` tokens.

``capture_card`` never hands the capture machine a card number or CVV in clear: what it reads
is sealed at once, so the capture store (memory or Redis), the idempotency record, events and
logs only ever see a token, and only the response that completes the capture opens it.

The cipher is AES-SIV (RFC 5297, ``cryptography``'s ``AESSIV``), deterministic on purpose: the
capture machine compares values (n-best hypotheses that agree, "the same number again" at the
readback), and equal cards must give equal tokens. It leaks only that two tokens hold the same
card, to whoever can read the store. Its 64-byte key is derived (HKDF-SHA256) from a 32-byte
key: ``Settings.card_key`` (``VOICECORE_CARD_KEY``, base64), shared by every replica, or a
random one per process for an in-memory store, whose states die with the process anyway.

A shared store without ``card_key`` would need every replica to hold the same key, so card
captures are refused there (``CardKeyMissingError``), while every other primitive is served.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from loguru import logger
from pydantic import SecretStr

from voicecore.errors import PrimitiveError

__all__ = [
    "CARD_KEY_BYTES",
    "CardCipher",
    "CardKeyMissingError",
    "CardTokenError",
    "card_cipher",
    "decode_card_key",
]

#: The length of ``Settings.card_key`` once base64-decoded.
CARD_KEY_BYTES: Final = 32
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
    """A token this key cannot open: sealed under another key (the key was changed, or a
    per-process key of another process)."""

    code = "INVALID_PARAMS"

    def __init__(self) -> None:
        message = "card data was sealed with another card key; start the card capture again"
        super().__init__(
            message,
            details={"errors": [{"loc": ["card"], "msg": message, "type": "card_key_changed"}]},
        )


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


class CardCipher:
    """Seals and opens card data with one key; a refusing cipher (no key) raises
    ``CardKeyMissingError`` on use."""

    def __init__(self, key: bytes | None) -> None:
        if key is None:
            self._aead: AESSIV | None = None
            # Digests must still hide what they digest: keyed, by this process alone.
            self._digest_key = os.urandom(CARD_KEY_BYTES)
            return
        if len(key) != CARD_KEY_BYTES:
            raise ValueError(f"a card key is {CARD_KEY_BYTES} bytes")
        self._aead = AESSIV(_derived(key, _CONTEXT, 64))
        self._digest_key = _derived(key, _DIGEST_CONTEXT, CARD_KEY_BYTES)

    @classmethod
    def random(cls) -> CardCipher:
        """A cipher with a key of its own, for one process's in-memory store."""
        return cls(os.urandom(CARD_KEY_BYTES))

    @property
    def refuses(self) -> bool:
        """Whether this cipher has no key (card captures are refused)."""
        return self._aead is None

    def seal(self, text: str, bound_to: bytes = b"") -> str:
        """``text`` as a token ("card1." and URL-safe base64); equal texts, equal tokens.
        ``bound_to`` (associated data: the capture it belongs to) must be given again to open
        it, so a token copied into another capture's state opens nowhere else."""
        sealed = self._cipher().encrypt(text.encode(), [_CONTEXT, bound_to])
        return _TOKEN_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, token: str, bound_to: bytes = b"") -> str:
        """The text ``token`` seals; ``CardTokenError`` if this key did not seal it, or not
        bound to ``bound_to``."""
        body = token.removeprefix(_TOKEN_PREFIX)
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._cipher().decrypt(sealed, [_CONTEXT, bound_to]).decode()
        except (InvalidTag, ValueError):
            raise CardTokenError() from None

    def digest(self, text: str) -> str:
        """A keyed digest of ``text`` (HMAC-SHA256): equal texts, equal digests, and nothing
        to guess the text from without the key. A refusing cipher digests with a key of its
        own process."""
        return hmac.new(self._digest_key, text.encode(), hashlib.sha256).hexdigest()

    def _cipher(self) -> AESSIV:
        if self._aead is None:
            raise CardKeyMissingError()
        return self._aead


def _derived(key: bytes, context: bytes, length: int) -> bytes:
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=context).derive(key)


def card_cipher(key: SecretStr | None, *, shared_store: bool) -> CardCipher:
    """The cipher a server uses: ``key`` (``Settings.card_key``) if set; else a random one
    for an in-memory store, or, for a shared store, one that refuses card captures (with a
    WARNING now, so the operator learns it at start, not from a failed call)."""
    if key is not None:
        return CardCipher(decode_card_key(key.get_secret_value()))
    if not shared_store:
        return CardCipher.random()
    logger.warning("capture_card refused: a shared store needs VOICECORE_CARD_KEY")
    return CardCipher(None)
