"""capture_card through the service, turn by turn: the parts asked for in turn with their own
prompts, a corrected part, keys, and the card never shown, stored or recorded in clear."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from voicecore._card_crypto import CardCipher
from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
)
from voicecore._sealed_records import recorded_fingerprint, recorded_form, replayed_form
from voicecore.capture import CaptureKey, InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import EventFilter
from voicecore.idempotency import InMemoryIdempotencyStore, fingerprint
from voicecore.primitive import PrimitiveState
from voicecore.primitives._card_events import HeldEvents
from voicecore.registry import PrimitiveRegistry, default_registry
from voicecore.service import VoiceCoreService

VISA, CVV = "4111111111111111", "123"
NC = PrimitiveState.NEEDS_CONFIRMATION
COMPLETED = PrimitiveState.COMPLETED
INCOMPLETE = PrimitiveState.INCOMPLETE
FAILED = PrimitiveState.FAILED
_IDS = itertools.count()


def shows(value: str, text: str) -> bool:
    """Whether ``value`` stands in ``text`` as a whole token (not inside a longer run)."""
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", text) is not None


@dataclass
class Card:
    """One conversation's card capture through a service with stores the test can read."""

    service: VoiceCoreService
    captures: InMemoryCaptureStore
    records: InMemoryIdempotencyStore
    conversation_id: str
    extra: dict[str, Any]

    async def send(self, key: str = "", **params: Any) -> ExecutePrimitiveResponse:
        request = ExecutePrimitiveRequest(
            objective_type="capture_card",
            conversation_id=self.conversation_id,
            idempotency_key=key,
            params=Struct.from_dict({"reference_date": "2026-12-01", **self.extra, **params}),
        )
        return await self.service.execute_primitive(request)

    async def say(self, text: str, key: str = "", **params: Any) -> tuple[Any, dict[str, Any]]:
        response = await self.send(key, transcription=text, **params)
        assert response.success, response.error
        assert response.metadata is not None and response.data is not None
        return response.metadata.state, response.data.to_dict()

    async def payloads(self) -> list[tuple[str, dict[str, Any]]]:
        where = EventFilter(conversation_id=self.conversation_id)
        events = self.service.events.subscribe(0, where, follow=False)
        return [(event.type, event.payload.to_dict()) async for event in events if event.payload]

    async def kept(self) -> str:
        state = await self.captures.get(CaptureKey(self.conversation_id, "capture_card"))
        return repr(state)


def card(cipher: CardCipher | None = None, **extra: Any) -> Card:
    captures, records = InMemoryCaptureStore(), InMemoryIdempotencyStore()
    service = VoiceCoreService(
        default_registry(card_cipher=cipher),
        settings=Settings(),
        captures=captures,
        idempotency=records,
    )
    return Card(service, captures, records, f"card-{next(_IDS)}", extra)


class TestTurns:
    async def test_number_expiry_cvv_then_yes(self) -> None:
        """Each part asked for in its own words; only brand and last four until the yes."""
        call = card()
        state, data = await call.say("um, my card number is 4111 1111 1111 1111")
        assert (state, data["reason"], data["brand"], data["last4"]) == (
            INCOMPLETE,
            "need_expiry",
            "visa",
            "1111",
        )
        assert data["prompt"] == (
            "Thanks, I have a Visa ending in one one one one. What's the expiration date on "
            "the card?"
        )
        assert "value" not in data and "partial" not in data and data["attempts"] == 1
        state, data = await call.say("oh four twenty seven")
        assert (state, data["reason"], data["expiry"]) == (INCOMPLETE, "need_cvv", "04/27")
        assert data["prompt"] == "And the three-digit security code?"
        state, data = await call.say("one two three")
        assert (state, data["value"]) == (NC, "************1111")
        assert data["readback"] == "a Visa ending in one one one one, expiring April 2027"
        assert data["readback"] in data["prompt"] and "cvv" not in data
        state, data = await call.say("yes that's right")
        assert state == COMPLETED
        assert (data["value"], data["cvv"], data["expiry"], data["brand"], data["last4"]) == (
            VISA,
            CVV,
            "04/27",
            "visa",
            "1111",
        )
        assert await call.kept() == "None"  # forgotten once complete

    async def test_the_number_in_pieces(self) -> None:
        call = card(require_cvv=False, require_expiry=False)
        state, data = await call.say("4111 1111")
        assert (state, data["reason"], data["digits_heard"]) == (INCOMPLETE, "need_more_digits", 8)
        assert data["prompt"] == "I have the first 8 digits. Please go on with the card number."
        state, data = await call.say("1111 1111")
        assert (state, data["value"]) == (NC, "************1111")

    async def test_expiry_first_asks_for_the_number(self) -> None:
        state, data = await card().say("it expires 04/27")
        assert (state, data["reason"]) == (INCOMPLETE, "need_number")
        assert data["prompt"] == "Thanks. And what's the card number?"

    @pytest.mark.parametrize(
        ("said", "reason", "prompt"),
        [
            (
                "4111 1111 1111 1112",
                "luhn_failed",
                "Sorry, that number doesn't check out. Could you read me the card number again?",
            ),
            (
                "9111 1111 1111 1111",
                "unknown_brand",
                "Sorry, I don't recognize that card number. Could you read it again?",
            ),
            (
                "4111 1111 1111 11",
                "wrong_length",
                "Sorry, that card number has the wrong number of digits. Could you read it again?",
            ),
            (
                "4111 1111 1111 1111 expires april twenty four",
                "card_expired",
                "That card expired in April 2024. Do you have another card, or could you check "
                "the expiration date?",
            ),
            (
                "4111 1111 1111 1111 expires 04/2099",
                "expiry_out_of_range",
                "Sorry, that expiration date doesn't look right. What's the expiration date on "
                "the card?",
            ),
            (
                "3782 822463 10005 exp 12/28 cvv 123",
                "wrong_cvv_length",
                "The security code on an American Express is four digits. Could you read it again?",
            ),
        ],
    )
    async def test_what_went_wrong_is_said(self, said: str, reason: str, prompt: str) -> None:
        """Each problem has its precise prompt and shows no digits."""
        state, data = await card().say(said)
        assert (state, data["reason"], data["prompt"]) == (INCOMPLETE, reason, prompt)
        assert "value" not in data and "last4" not in data

    async def test_a_number_that_never_checks_out_fails(self) -> None:
        """Every Luhn failure spends an attempt: the third ends the capture."""
        call = card()
        states = [(await call.say("4111 1111 1111 1112"))[0] for _ in range(3)]
        assert states == [INCOMPLETE, INCOMPLETE, FAILED]

    async def test_amex_asks_for_four_digits(self) -> None:
        state, data = await card().say("3782 822463 10005 exp 12/28")
        assert (state, data["prompt"]) == (INCOMPLETE, "And the four-digit security code?")

    @pytest.mark.parametrize(
        ("said", "keys"), [("twelve twenty eight", {}), ("", {"dtmf": "1228#"})]
    )
    async def test_amex_code_alone_without_an_expiry_asked_for(
        self, said: str, keys: dict[str, str]
    ) -> None:
        """An Amex code that looks like a date ("1228") is the CVV when no expiry is asked
        for (issue 14): read back without it, completed with it, and never in clear in the
        events or the capture store on the way."""
        call = card(require_expiry=False)
        state, data = await call.say("3782 822463 10005")
        assert (state, data["reason"], data["prompt"]) == (
            INCOMPLETE,
            "need_cvv",
            "And the four-digit security code?",
        )
        state, data = await call.say(said, **keys)
        assert (state, data["value"], "expiry" in data) == (NC, "***********0005", False)
        assert not shows("1228", repr(data)) and not shows("1228", await call.kept())
        state, data = await call.say("yes")
        assert (state, data["value"], data["cvv"]) == (COMPLETED, "378282246310005", "1228")
        assert "expiry" not in data
        assert not shows("1228", repr(await call.payloads()))

    async def test_one_part_corrected_then_confirmed(self) -> None:
        call = card()
        await call.say("4111 1111 1111 1111 exp 04/27 cvv 123")
        state, data = await call.say("no, the expiry is oh five twenty eight")
        assert (state, data["expiry"], data["value"]) == (NC, "05/28", "************1111")
        assert data["prompt"].startswith("Sorry about that. So your card is a Visa ending in")
        state, data = await call.say("no, the security code is 456")
        assert state == NC and "456" not in repr(data)
        state, data = await call.say("yes")
        assert (state, data["value"], data["expiry"], data["cvv"]) == (
            COMPLETED,
            VISA,
            "05/28",
            "456",
        )

    async def test_a_plain_no_asks_again(self) -> None:
        call = card()
        await call.say("4111 1111 1111 1111 exp 04/27 cvv 123")
        state, data = await call.say("no")
        assert (state, data["reason"]) == (INCOMPLETE, "rejected")

    async def test_keys(self) -> None:
        call = card()
        state, data = await call.say("", dtmf="4111111111111111#")
        assert (state, data["reason"]) == (INCOMPLETE, "need_expiry")
        await call.say("", dtmf="0427#")
        state, data = await call.say("", dtmf="123#")
        assert (state, data["value"]) == (NC, "************1111")
        state, data = await call.say("", dtmf="1")
        assert (state, data["value"], data["cvv"]) == (COMPLETED, VISA, CVV)

    async def test_keys_in_one_entry_of_parts(self) -> None:
        """ "number#expiry#cvv#" in one entry: read back, then 1 completes."""
        call = card()
        state, data = await call.say("", dtmf=f"{VISA}#1228#{CVV}#")
        assert (state, data["value"], data["expiry"], data["attempts"]) == (
            NC,
            "************1111",
            "12/28",
            1,
        )
        state, data = await call.say("", dtmf="1")
        assert (state, data["value"], data["cvv"]) == (COMPLETED, VISA, CVV)

    async def test_keys_in_one_entry_with_an_expiry_that_is_no_date(self) -> None:
        """ "number#1399#987#": the expiry is said to be wrong (not the code's length), as
        for any expiry refused, and neither 1399 nor the code shown, kept or told to the
        events; the card keyed again is read back."""
        call = card()
        state, data = await call.say("", dtmf=f"{VISA}#1399#987#")
        assert (state, data["reason"], data["attempts"]) == (INCOMPLETE, "expiry_out_of_range", 1)
        assert data["prompt"] == (
            "Sorry, that expiration date doesn't look right. What's the expiration date on the "
            "card?"
        )
        assert "expiry" not in data
        kept, payloads = await call.kept(), json.dumps(await call.payloads())
        for text in (kept, payloads, json.dumps(data)):
            assert not shows("1399", text) and not shows("987", text) and "4111" not in text
        state, data = await call.say("", dtmf=f"{VISA}#1228#987#")
        assert (state, data["value"], data["expiry"]) == (NC, "************1111", "12/28")

    async def test_keys_in_one_entry_correct_the_readback(self) -> None:
        """At the readback, a whole new card keyed in one entry is a correction."""
        call = card()
        await call.say("4111 1111 1111 1111 exp 04/27 cvv 123")
        state, data = await call.say("", dtmf="5555555555554444#0528#456#")
        assert (state, data["brand"], data["expiry"]) == (NC, "mastercard", "05/28")
        state, data = await call.say("", dtmf="1")
        assert (state, data["value"], data["cvv"]) == (COMPLETED, "5555555555554444", "456")

    async def test_keys_star_starts_over(self) -> None:
        call = card()
        await call.say("", dtmf="4111111111111111#")
        state, data = await call.say("", dtmf="*5555555555554444#")
        assert (state, data["reason"], data["brand"]) == (INCOMPLETE, "need_expiry", "mastercard")

    async def test_without_confirmation_the_first_whole_card_completes(self) -> None:
        state, data = await card(require_confirmation=False).say("4111111111111111 0427 123")
        assert (state, data["value"], data["cvv"]) == (COMPLETED, VISA, CVV)

    async def test_number_only_has_no_cvv(self) -> None:
        call = card(require_cvv=False, require_expiry=False)
        state, data = await call.say("4111111111111111", require_confirmation=False)
        assert (state, data["value"]) == (COMPLETED, VISA)
        assert "cvv" not in data and "expiry" not in data

    async def test_candidates_are_masked(self) -> None:
        said = "5555 5555 5555 4444 exp 04/27 cvv 123"
        state, data = await card().say(
            "4111 1111 1111 1111 exp 04/27 cvv 123",
            asr_confidence=0.6,
            alternatives=[{"transcription": said, "confidence": 0.5}],
        )
        assert state == NC
        assert [c["value"] for c in data["candidates"]] == ["************4444"]

    async def test_unclear_answers_fail_masked(self) -> None:
        call = card(max_unclear=0)
        await call.say("4111 1111 1111 1111 exp 04/27 cvv 123")
        state, data = await call.say("hmm")
        assert (state, data["reason"], data["unconfirmed_value"]) == (
            FAILED,
            "unclear_answers",
            "************1111",
        )


class TestEvents:
    async def test_cards_in_events_are_masked_to_the_last_four(self) -> None:
        """Captured, corrected (the new card and the one it replaced), rejected: each card an
        event names is its number masked, never a token, never the digits."""
        call = card()
        await call.say("4111 1111 1111 1111 exp 04/27 cvv 123")
        await call.say("no, 5555 5555 5555 4444")
        await call.say("no")
        shown = [
            (kind, payload.get("value_redacted"), payload.get("previous_redacted"))
            for kind, payload in await call.payloads()
            if kind.startswith("capture.")
        ]
        assert shown == [
            ("capture.value_captured", "************1111", None),
            ("capture.corrected", "************4444", "************1111"),
            ("capture.rejected", "************4444", None),
        ]

    async def test_a_redacted_value_not_known_is_hidden(self) -> None:
        held, sent = HeldEvents(), []

        async def emit(event_type: str, payload: Mapping[str, JsonValue]) -> None:
            sent.append((event_type, dict(payload)))

        await held.emit("capture.rejected", {"value_redacted": "c***.***", "attempt": 1})
        await held.release(emit, {})
        assert sent == [("capture.rejected", {"value_redacted": "***", "attempt": 1})]


def _without_trace_id(response: bytes) -> str:
    """A recorded response's bytes as text, without its random trace id (hex, which holds
    "4111" about once in two thousand)."""
    metadata = ExecutePrimitiveResponse.parse(response).metadata
    assert metadata is not None and metadata.trace_id
    return response.decode("latin-1").replace(metadata.trace_id, "")


class TestNothingInClear:
    async def test_the_store_holds_only_tokens_while_open(self) -> None:
        call = card()
        kept = []
        for said in ("4111 1111 1111 1111", "04/27", "cvv 123"):
            await call.say(said)
            kept.append(await call.kept())
        assert all("card1." in text for text in kept)
        for text in kept:
            assert not shows(VISA, text) and not shows(CVV, text) and "4111" not in text

    async def test_one_keyed_entry_is_never_in_clear(self) -> None:
        """The whole card keyed in one entry ("number#expiry#cvv#"): the store holds a token,
        the events the last four, each turn's record its fingerprint keyed (it digests the
        entry) and the completing one the card sealed; a retry still gets it."""
        call = card(CardCipher(bytes(32)))
        entry = f"{VISA}#1228#{CVV}#"
        state, _ = await call.say("", key="k1", dtmf=entry)
        assert state == NC
        kept = await call.kept()
        assert "card1." in kept and "4111" not in kept and not shows(CVV, kept)
        _, done = await call.say("", key="k2", dtmf="1")
        again = await call.send("k2", transcription="", dtmf="1")
        assert again.data is not None and again.data.to_dict() == done
        assert (done["value"], done["cvv"]) == (VISA, CVV)
        params = {"reference_date": "2026-12-01", "transcription": "", "dtmf": entry}
        plain = fingerprint("capture_card", "", json.dumps(params, sort_keys=True))
        first = call.records.get(("", call.conversation_id, "k1"))
        last = call.records.get(("", call.conversation_id, "k2"))
        assert first is not None and last is not None
        assert first.fingerprint == CardCipher(bytes(32)).digest(plain) != plain
        recorded = [_without_trace_id(record.response) for record in (first, last)]
        assert "card1." in recorded[1]
        payloads = [json.dumps(payload) for _, payload in await call.payloads()]
        assert any("************1111" in payload for payload in payloads)
        for text in [*recorded, *payloads, first.fingerprint, last.fingerprint]:
            assert not shows(VISA, text) and not shows(CVV, text) and "4111" not in text

    async def test_the_completing_record_is_sealed_and_replays_the_card(self) -> None:
        """A retried completing turn (its response lost) still gets the digits; the record
        holds them only sealed."""
        call = card()
        await call.say("4111 1111 1111 1111 exp 04/27 cvv 123", key="k1")
        _, done = await call.say("yes", key="k2")
        record = call.records.get(("", call.conversation_id, "k2"))
        assert record is not None
        assert VISA.encode() not in record.response and b"card1." in record.response
        assert not shows(CVV, record.response.decode("latin-1"))
        again = await call.send("k2", transcription="yes")
        assert again.metadata is not None and again.metadata.replayed
        assert again.data is not None and again.data.to_dict() == done
        assert (done["value"], done["cvv"]) == (VISA, CVV)

    async def test_records_of_card_turns_keep_a_keyed_fingerprint(self) -> None:
        """The fingerprint digests the transcription: a plain hash of it could be found
        again by trying the numbers of a brand's range, so a card turn's record keeps it keyed
        (the same key, the same fingerprint: a retry at another replica still matches)."""
        call = card(CardCipher(bytes(32)))
        await call.say("4111 1111 1111 1111", key="k1")
        record = call.records.get(("", call.conversation_id, "k1"))
        assert record is not None
        params = {"reference_date": "2026-12-01", "transcription": "4111 1111 1111 1111"}
        plain = fingerprint("capture_card", "", json.dumps(params, sort_keys=True))
        keyed = CardCipher(bytes(32)).digest(plain)
        assert record.fingerprint == keyed != plain
        registry = default_registry()
        assert recorded_fingerprint(registry, "capture_digits", plain) == plain

    async def test_a_held_card_copied_to_another_capture_does_not_open(self) -> None:
        """Whoever can write the store cannot have a card opened elsewhere: a held card's
        state copied under another conversation's key does not open there, so that capture
        is lost (asked again as if it had expired), not completed."""
        victim = card(CardCipher(bytes(32)))
        state, _ = await victim.say("4111 1111 1111 1111 exp 04/27 cvv 123")
        assert state == PrimitiveState.NEEDS_CONFIRMATION
        held = await victim.captures.get(CaptureKey(victim.conversation_id, "capture_card"))
        assert held is not None
        thief = Card(victim.service, victim.captures, victim.records, "card-thief", {})
        await victim.captures.put(CaptureKey(thief.conversation_id, "capture_card"), held)
        taken = await thief.send(transcription="yes")
        assert taken.success and taken.metadata is not None and taken.data is not None
        assert taken.metadata.state == INCOMPLETE and "value" not in taken.data.to_dict()
        assert not shows(VISA, repr(taken)) and not shows(CVV, repr(taken))
        _, done = await victim.say("yes")
        assert (done["value"], done["cvv"]) == (VISA, CVV)

    async def test_a_record_sealed_with_another_key_is_an_error(self) -> None:
        sealed = recorded_form(
            default_registry(card_cipher=CardCipher.random()),
            "capture_card",
            ExecutePrimitiveResponse(success=True, data=Struct.from_dict({"value": VISA})),
        )
        opened = replayed_form(
            default_registry(card_cipher=CardCipher.random()), "capture_card", sealed
        )
        assert (opened.success, opened.data) == (False, None)
        assert opened.error is not None and opened.error.code == ErrorCode.INVALID_PARAMS
        assert "another card key" in opened.error.message

    def test_other_primitives_and_empty_responses_are_recorded_as_they_are(self) -> None:
        registry = default_registry()
        plain = ExecutePrimitiveResponse(success=True, data=Struct.from_dict({"value": "x"}))
        assert recorded_form(registry, "capture_digits", plain) is plain
        assert recorded_form(registry, "no_such_primitive", plain) is plain
        empty = ExecutePrimitiveResponse(success=False)
        assert recorded_form(registry, "capture_card", empty) is empty
        assert replayed_form(registry, "capture_card", empty) is empty
        assert replayed_form(PrimitiveRegistry(), "capture_card", plain) is plain


class TestSharedStoreWithoutKey:
    async def test_card_captures_are_refused_other_primitives_served(self) -> None:
        settings = Settings(store="redis://127.0.0.1:1/0")  # never opened: from_settings only
        service = VoiceCoreService.from_settings(settings)
        request = ExecutePrimitiveRequest(
            objective_type="capture_card",
            conversation_id="c",
            params=Struct.from_dict({"transcription": "4111 1111 1111 1111"}),
        )
        response = await service.execute_primitive(request)
        assert not response.success and response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert "VOICECORE_CARD_KEY" in response.error.message
        digits = ExecutePrimitiveRequest(
            objective_type="capture_digits",
            params=Struct.from_dict({"transcription": "one two three"}),
        )
        assert (await service.execute_primitive(digits)).success
