"""Card key rotation: the setting's key ring, tokens that name their key, the old key's
tokens opened while it is listed, an unknown or swapped id refused, and no key in a message."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr, ValidationError

from voicecore._card_crypto import CardCipher, CardKeyMissingError, CardTokenError, card_cipher
from voicecore._card_keys import CardKey, parse_card_keys
from voicecore.config import Settings

OLD, NEW = bytes(range(32)), bytes(range(100, 132))
OLD_TEXT, NEW_TEXT = base64.b64encode(OLD).decode(), base64.urlsafe_b64encode(NEW).decode()
CARD = "4111111111111111|042027|123"


def ring(*keys: tuple[str | None, bytes]) -> CardCipher:
    return CardCipher.ring([CardKey(key_id, secret) for key_id, secret in keys])


class TestSetting:
    def test_one_key_is_the_unnamed_key(self) -> None:
        assert parse_card_keys(OLD_TEXT) == (CardKey(None, OLD),)

    def test_a_ring_lists_ids_in_order_the_first_seals(self) -> None:
        keys = parse_card_keys(f"k2:{NEW_TEXT}, k1:{OLD_TEXT}")
        assert keys == (CardKey("k2", NEW), CardKey("k1", OLD))
        assert parse_card_keys(f"2026-12_b:{NEW_TEXT},{OLD_TEXT}") == (
            CardKey("2026-12_b", NEW),
            CardKey(None, OLD),
        )

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (f"k2:{NEW_TEXT},k1:{OLD_TEXT[:-4]}", "card_key entry 2 should be base64 of 32"),
            (f"k.2:{NEW_TEXT}", "card_key: a key id is 1 to 16 letters"),
            (f":{NEW_TEXT}", "card_key: a key id is 1 to 16 letters"),
            (f"{'k' * 17}:{NEW_TEXT}", "card_key: a key id is 1 to 16 letters"),
            (f"k1:{NEW_TEXT},k/2:{OLD_TEXT}", "card_key entry 2: a key id is 1 to 16"),
            (f"k1:{NEW_TEXT},k1:{OLD_TEXT}", "lists a key id twice"),
            (f"{NEW_TEXT},{OLD_TEXT}", "more than one key without an id"),
            (f"k1:{NEW_TEXT},", "card_key entry 2 should be base64 of 32 bytes, not 0"),
        ],
    )
    def test_a_bad_ring_says_where_not_what(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message) as refused:
            parse_card_keys(text)
        assert OLD_TEXT[:8] not in str(refused.value) and NEW_TEXT[:8] not in str(refused.value)

    def test_settings_take_a_ring_and_never_echo_it(self) -> None:
        assert Settings(card_key=SecretStr(f"k2:{NEW_TEXT},k1:{OLD_TEXT}")).card_key is not None
        with pytest.raises(ValidationError) as refused:
            Settings.model_validate({"card_key": f"k2:{NEW_TEXT},k2:{OLD_TEXT}"})
        shown = str(refused.value)
        assert "card_key" in shown and "twice" in shown
        assert NEW_TEXT not in shown and OLD_TEXT not in shown

    def test_a_key_is_not_shown_by_its_repr(self) -> None:
        assert repr(CardKey("k1", OLD)) == "CardKey(id='k1', secret=...)"


class TestRotation:
    def test_the_first_key_seals_and_the_token_names_it(self) -> None:
        token = ring(("k2", NEW), ("k1", OLD)).seal(CARD, b"capture")
        assert token.startswith("card1.k2.") and "4111" not in token
        assert ring(("k2", NEW)).open(token, b"capture") == CARD

    def test_an_old_keys_tokens_open_while_it_is_listed(self) -> None:
        token = ring(("k1", OLD)).seal(CARD, b"capture")
        assert ring(("k2", NEW), ("k1", OLD)).open(token, b"capture") == CARD
        with pytest.raises(CardTokenError) as refused:
            ring(("k2", NEW)).open(token, b"capture")
        assert (refused.value.why, refused.value.key_id) == ("unknown_key", "k1")
        assert refused.value.code == "INVALID_PARAMS"

    def test_an_id_swapped_does_not_open(self) -> None:
        """The id is associated data: relabelled, a token does not open, even under a key
        with the very same secret."""
        both = ring(("k1", OLD), ("k2", OLD))
        token = both.seal(CARD)
        swapped = token.replace("card1.k1.", "card1.k2.", 1)
        assert swapped != token
        with pytest.raises(CardTokenError) as refused:
            both.open(swapped)
        assert (refused.value.why, refused.value.key_id) == ("unopenable", "k2")

    def test_unnamed_tokens_are_as_before_ids(self) -> None:
        """The unnamed key seals as the releases before ids did, in either direction, so a
        fleet can be upgraded before the key is rotated."""
        earlier = CardCipher(OLD).seal(CARD)
        assert earlier.count(".") == 1
        assert ring((None, OLD), ("k0", NEW)).seal(CARD) == earlier
        assert ring(("k2", NEW), (None, OLD)).open(earlier) == CARD
        with pytest.raises(CardTokenError) as refused:
            ring(("k2", NEW), ("k1", OLD)).open(earlier)
        assert (refused.value.why, refused.value.key_id) == ("unknown_key", None)

    def test_a_token_resealed_is_the_sealing_keys_token_of_its_text(self) -> None:
        """Resealed, an old key's token equals the token the sealing key gives the same card
        (so a card held before a rotation matches itself read after it), still bound to its
        capture; the sealing key's own token is unchanged."""
        rotated = ring(("k2", NEW), ("k1", OLD))
        old = ring(("k1", OLD)).seal(CARD, b"capture")
        resealed = rotated.reseal(old, b"capture")
        assert resealed == rotated.seal(CARD, b"capture") != old
        assert resealed.startswith("card1.k2.")
        assert rotated.reseal(resealed, b"capture") == resealed
        assert ring(("k2", NEW)).open(resealed, b"capture") == CARD
        with pytest.raises(CardTokenError):
            rotated.open(resealed, b"another capture")

    def test_a_token_that_does_not_open_is_not_resealed(self) -> None:
        old = ring(("k1", OLD)).seal(CARD, b"capture")
        with pytest.raises(CardTokenError) as refused:
            ring(("k2", NEW)).reseal(old, b"capture")
        assert (refused.value.why, refused.value.key_id) == ("unknown_key", "k1")
        with pytest.raises(CardTokenError):
            ring(("k1", OLD)).reseal(old, b"another capture")

    def test_the_sealing_key_digests(self) -> None:
        assert ring((None, OLD), ("k2", NEW)).digest("x") == CardCipher(OLD).digest("x")
        assert ring(("k2", NEW), (None, OLD)).digest("x") != CardCipher(OLD).digest("x")

    def test_every_listed_key_digests(self) -> None:
        """A fingerprint keyed before a rotation is among the ring's digests while its key
        is listed, and only then."""
        before = ring(("k1", OLD)).digest("x")
        assert before in ring(("k2", NEW), ("k1", OLD)).digests("x")
        assert before not in ring(("k2", NEW)).digests("x")
        refusing = CardCipher(None)
        assert refusing.digests("x") == {refusing.digest("x")}

    def test_a_ring_needs_a_key_of_32_bytes(self) -> None:
        with pytest.raises(ValueError, match="needs a key"):
            CardCipher.ring([])
        with pytest.raises(ValueError, match="32 bytes"):
            ring(("k1", b"short"))

    def test_a_refusing_cipher_opens_nothing(self) -> None:
        with pytest.raises(CardKeyMissingError):
            CardCipher(None).open(CardCipher(OLD).seal(CARD))

    def test_the_server_cipher_takes_the_ring(self) -> None:
        cipher = card_cipher(SecretStr(f"k2:{NEW_TEXT},k1:{OLD_TEXT}"), shared_store=True)
        assert cipher.seal(CARD).startswith("card1.k2.")
        assert cipher.open(ring(("k1", OLD)).seal(CARD)) == CARD
