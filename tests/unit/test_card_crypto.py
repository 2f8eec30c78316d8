"""Card sealing: the key from settings, deterministic tokens, another key refused, and the
refusing cipher of a shared store without a key."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from loguru import logger
from pydantic import SecretStr, ValidationError

from voicecore._card_crypto import (
    CardCipher,
    CardKeyMissingError,
    CardTokenError,
    card_cipher,
    decode_card_key,
)
from voicecore.config import Settings

KEY = bytes(range(32))
KEY_TEXT = base64.b64encode(KEY).decode()


class TestKey:
    def test_standard_and_url_safe_base64(self) -> None:
        key = bytes([251] * 32)  # "+" and "/" in standard base64
        assert decode_card_key(base64.b64encode(key).decode()) == key
        assert decode_card_key(base64.urlsafe_b64encode(key).decode()) == key

    @pytest.mark.parametrize(
        ("text", "message"),
        [("not base64!", "should be base64"), (base64.b64encode(b"short").decode(), "not 5")],
    )
    def test_a_bad_key_says_why(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            decode_card_key(text)

    def test_settings_validate_the_key(self) -> None:
        assert Settings(card_key=SecretStr(KEY_TEXT)).card_key is not None
        with pytest.raises(ValidationError, match="card_key should be base64 of 32 bytes"):
            Settings(card_key=SecretStr(base64.b64encode(b"x" * 16).decode()))

    def test_the_key_is_not_shown(self) -> None:
        assert KEY_TEXT not in repr(Settings(card_key=SecretStr(KEY_TEXT)))

    def test_a_malformed_key_is_not_shown_in_the_error(self) -> None:
        """A key with a stray newline is refused without the key in the message."""
        with pytest.raises(ValidationError) as refused:
            Settings.model_validate({"card_key": KEY_TEXT + "\n!"})  # a str, as from the env
        assert "card_key" in str(refused.value) and KEY_TEXT not in str(refused.value)

    def test_a_cipher_needs_32_bytes(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            CardCipher(b"short")


class TestSealing:
    def test_round_trip_and_determinism(self) -> None:
        cipher = CardCipher(KEY)
        token = cipher.seal("4111111111111111|042027|123")
        assert token.startswith("card1.") and "4111" not in token
        assert cipher.seal("4111111111111111|042027|123") == token
        assert cipher.seal("4111111111111111|042027|124") != token
        assert cipher.open(token) == "4111111111111111|042027|123"

    def test_another_key_cannot_open(self) -> None:
        token = CardCipher(KEY).seal("4111111111111111||")
        with pytest.raises(CardTokenError, match="another card key"):
            CardCipher.random().open(token)

    def test_garbage_is_not_a_token(self) -> None:
        with pytest.raises(CardTokenError):
            CardCipher(KEY).open("card1.%%%")

    def test_digests_are_keyed(self) -> None:
        """The same key digests alike on every replica; another key, or none, does not."""
        text = "my card number is 4111 1111 1111 1111"
        digest = CardCipher(KEY).digest(text)
        assert digest == CardCipher(KEY).digest(text) != CardCipher(KEY).digest(text + ".")
        assert digest != CardCipher.random().digest(text)
        assert digest != CardCipher(None).digest(text) and len(digest) == 64

    def test_a_refusing_cipher_refuses(self) -> None:
        cipher = CardCipher(None)
        assert cipher.refuses
        with pytest.raises(CardKeyMissingError, match="VOICECORE_CARD_KEY"):
            cipher.seal("")
        assert CardKeyMissingError().code == "INVALID_PARAMS"


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    lines: list[str] = []
    logger.enable("voicecore")
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="WARNING")
    yield lines
    logger.remove(sink)
    logger.disable("voicecore")


class TestServerCipher:
    def test_a_configured_key_is_used(self) -> None:
        token = CardCipher(KEY).seal("x")
        assert card_cipher(SecretStr(KEY_TEXT), shared_store=True).open(token) == "x"

    def test_memory_without_a_key_gets_a_random_one(self, warnings: list[str]) -> None:
        first = card_cipher(None, shared_store=False)
        second = card_cipher(None, shared_store=False)
        assert not first.refuses and first.seal("x") != second.seal("x")
        assert warnings == []

    def test_a_shared_store_without_a_key_refuses_and_warns(self, warnings: list[str]) -> None:
        assert card_cipher(None, shared_store=True).refuses
        assert warnings == ["capture_card refused: a shared store needs VOICECORE_CARD_KEY"]
