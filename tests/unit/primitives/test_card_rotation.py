"""capture_card across a key rotation, as replicas of a fleet sharing one store see it: turn 1
sealed with key A, turn 2 at a replica listing "B,A" (it opens) or only "B" (the capture is
lost and the caller asked again, as for an expired capture: never an error, never a value)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from loguru import logger
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from voicecore._card_crypto import CardCipher, card_cipher
from voicecore._card_keys import CardKey
from voicecore._card_states import LosesCaptures
from voicecore._execution import CALL_EVENT_TYPES
from voicecore._in_memory import in_memory_store
from voicecore._metrics import observability
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
)
from voicecore.capture import CaptureKey, CaptureState
from voicecore.capture._expiry import Lost
from voicecore.config import Settings
from voicecore.events import EventFilter
from voicecore.primitive import PrimitiveState
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService
from voicecore.stores import MemoryStore

VISA, CVV = "4111111111111111", "123"
A = CardKey("A", bytes(range(32)))
B = CardKey("B", bytes(range(1, 33)))
_IDS = itertools.count()


@dataclass
class Fleet:
    """Replicas with their own card keys on one shared store, and one conversation."""

    store: MemoryStore
    conversation_id: str

    def replica(self, *keys: CardKey) -> VoiceCoreService:
        return self._serving(CardCipher.ring(keys))

    def configured(self, setting: str) -> VoiceCoreService:
        """A replica whose VOICECORE_CARD_KEY is ``setting``."""
        return self._serving(card_cipher(SecretStr(setting), shared_store=True))

    def _serving(self, cipher: CardCipher) -> VoiceCoreService:
        registry = default_registry(card_cipher=cipher)
        return VoiceCoreService(registry, settings=Settings(), store=self.store)

    async def send(
        self, replica: VoiceCoreService, text: str, key: str = "", **params: Any
    ) -> ExecutePrimitiveResponse:
        said = {"transcription": text, "reference_date": "2026-12-01", **params}
        return await replica.execute_primitive(
            ExecutePrimitiveRequest(
                objective_type="capture_card",
                conversation_id=self.conversation_id,
                idempotency_key=key,
                params=Struct.from_dict(said),
            )
        )

    async def say(
        self, replica: VoiceCoreService, text: str, **params: Any
    ) -> tuple[Any, dict[str, Any]]:
        response = await self.send(replica, text, **params)
        assert response.success, response.error
        assert response.metadata is not None and response.data is not None
        return response.metadata.state, response.data.to_dict()

    async def everything_kept(self) -> str:
        """The events and the kept capture state, as text."""
        where = EventFilter(conversation_id=self.conversation_id)
        events = [repr(e) async for e in self.store.events.subscribe(0, where, follow=False)]
        return "\n".join([*events, repr(await self.kept())])

    async def kept(self) -> CaptureState | None:
        """The capture state the store keeps, as a replica would load it."""
        state: CaptureState | None = await self.store.captures.get(
            CaptureKey(self.conversation_id, "capture_card")
        )
        return state


@pytest.fixture
def fleet() -> Fleet:
    return Fleet(in_memory_store(Settings()), f"rotation-{next(_IDS)}")


@pytest.fixture
def logged() -> Iterator[list[str]]:
    """Every log line at DEBUG and above, its extras with it."""
    lines: list[str] = []
    logger.enable("voicecore")
    sink = logger.add(
        lambda message: lines.append(f"{message.record['message']} {message.record['extra']}"),
        level="DEBUG",
    )
    yield lines
    logger.remove(sink)
    logger.disable("voicecore")


class TestRotation:
    async def test_a_replica_listing_the_old_key_completes_the_capture(self, fleet: Fleet) -> None:
        state, _ = await fleet.say(fleet.replica(A), "4111 1111 1111 1111 exp 04/27 cvv 123")
        assert state == PrimitiveState.NEEDS_CONFIRMATION
        state, data = await fleet.say(fleet.replica(B, A), "yes")
        assert (state, data["value"], data["cvv"]) == (PrimitiveState.COMPLETED, VISA, CVV)

    async def test_a_partial_card_goes_on_at_a_replica_listing_the_old_key(
        self, fleet: Fleet
    ) -> None:
        """A partial card sealed with A, completed at "B,A": the parts are sealed with B now,
        and a replica listing only B opens them."""
        state, _ = await fleet.say(fleet.replica(A), "4111 1111 1111 1111")
        assert state == PrimitiveState.INCOMPLETE
        state, data = await fleet.say(fleet.replica(B, A), "expires 04/27")
        assert (state, data["reason"], data["expiry"]) == (
            PrimitiveState.INCOMPLETE,
            "need_cvv",
            "04/27",
        )
        state, data = await fleet.say(fleet.replica(B), "cvv 123")
        assert (state, data["value"]) == (PrimitiveState.NEEDS_CONFIRMATION, "************1111")

    async def test_a_replica_without_the_key_asks_again(
        self, fleet: Fleet, logged: list[str]
    ) -> None:
        """The held card does not open at "B": the capture is lost as if it had expired, the
        caller is asked for the card again, the loss logged once with the key id only."""
        await fleet.say(fleet.replica(A), "4111 1111 1111 1111 exp 04/27 cvv 123")
        replica, told = fleet.replica(B), list[tuple[Hashable, Lost]]()
        card = replica.registry.get("capture_card")
        assert isinstance(card, LosesCaptures)
        card.on_lost.append(lambda key, why: told.append((key, why)))
        state, data = await fleet.say(replica, "yes")
        assert (state, data["reason"]) == (PrimitiveState.INCOMPLETE, "no_value_heard")
        assert "value" not in data and data["attempts"] == 1
        assert data["prompt"] == "Sorry, I didn't catch that. Could you tell me your card?"
        lost = [line for line in logged if line.startswith("card capture lost")]
        assert len(lost) == 1 and "'key_id': 'A'" in lost[0] and "'unknown_key'" in lost[0]
        state, data = await fleet.say(replica, "4111 1111 1111 1111 exp 04/27 cvv 123")
        assert state == PrimitiveState.NEEDS_CONFIRMATION
        state, data = await fleet.say(replica, "yes")
        assert (state, data["value"]) == (PrimitiveState.COMPLETED, VISA)
        assert len([line for line in logged if line.startswith("card capture lost")]) == 1
        assert told == [(CaptureKey(fleet.conversation_id, "capture_card"), "unreadable")]

    async def test_a_lost_partial_card_starts_over(self, fleet: Fleet) -> None:
        await fleet.say(fleet.replica(A), "4111 1111 1111 1111")
        state, data = await fleet.say(fleet.replica(B), "expires 04/27")
        assert state == PrimitiveState.INCOMPLETE and data["reason"] == "need_number"
        assert "last4" not in data

    async def test_nothing_in_clear_anywhere(self, fleet: Fleet, logged: list[str]) -> None:
        """Through the rotation and the lost capture: no number or CVV in the events, the
        kept state or any log line."""
        await fleet.say(fleet.replica(A), "4111 1111 1111 1111 exp 04/27")
        await fleet.say(fleet.replica(B), "cvv 123")
        await fleet.say(fleet.replica(B), "4111 1111 1111 1111 exp 04/27 cvv 123")
        text = "\n".join([await fleet.everything_kept(), *logged])
        assert "card capture lost" in text
        assert VISA not in text and "1111 1111" not in text and "cvv 123" not in text

    async def test_a_server_counts_a_lost_card_capture(self, fleet: Fleet) -> None:
        """Counted as an unreadable result of capture_card, once."""
        replica, metrics = fleet.replica(B), CollectorRegistry()
        observability(
            Settings(), replica.registry, CALL_EVENT_TYPES, fleet.store.events, {}, metrics
        )
        await fleet.say(fleet.replica(A), "4111 1111 1111 1111 exp 04/27 cvv 123")
        await fleet.say(replica, "yes")
        await fleet.say(replica, "4111 1111 1111 1111 exp 04/27 cvv 123")
        labels = {"objective_type": "capture_card", "result": "unreadable"}
        assert metrics.get_sample_value("voicecore_capture_results_total", labels) == 1


def _key_ids(state: CaptureState | None) -> set[str]:
    """The ids of the keys that sealed the tokens ``state`` holds ("card1.<id>.<sealed>")."""
    assert state is not None
    tokens = [state.partial] if state.partial else []
    if state.held is not None:
        tokens += [state.held.value, *(c.value for c in state.held.candidates)]
    assert tokens
    return {token.split(".")[1] for token in tokens}


class TestResealed:
    """A turn at a replica sealing with the new key moves the capture onto it: the tokens it
    reads are opened and sealed again with its sealing key before the turn runs."""

    async def test_the_same_card_said_again_across_the_rotation_confirms_it(
        self, fleet: Fleet
    ) -> None:
        """The review's case: held at a replica with A alone, said again at the readback at
        one with "B,A": the same card, so it completes at attempt 1, as with one key."""
        said = "4111 1111 1111 1111 exp 04/27 cvv 123"
        state, _ = await fleet.say(fleet.replica(A), said)
        assert state == PrimitiveState.NEEDS_CONFIRMATION
        state, data = await fleet.say(fleet.replica(B, A), said)
        assert (state, data["attempts"], data["value"], data["cvv"]) == (
            PrimitiveState.COMPLETED,
            1,
            VISA,
            CVV,
        )

    async def test_a_held_card_and_its_candidates_are_kept_under_the_new_key(
        self, fleet: Fleet
    ) -> None:
        """An answer not understood keeps the held card (and the other hypothesis' card) as
        it was, yet sealed with B now: a replica listing B alone completes it."""
        other = {"transcription": "4111 1111 1111 1111 exp 05/28 cvv 123", "confidence": 0.4}
        said = "4111 1111 1111 1111 exp 04/27 cvv 123"
        await fleet.say(fleet.replica(A), said, asr_confidence=0.9, alternatives=[other])
        assert _key_ids(await fleet.kept()) == {"A"}
        held = await fleet.kept()
        assert held is not None and held.held is not None and held.held.candidates
        state, data = await fleet.say(fleet.replica(B, A), "hmm")
        assert (state, data["attempts"]) == (PrimitiveState.NEEDS_CONFIRMATION, 1)
        kept = await fleet.kept()
        assert _key_ids(kept) == {"B"}
        assert kept is not None and kept.held is not None
        assert len(kept.held.candidates) == len(held.held.candidates)
        state, data = await fleet.say(fleet.replica(B), "yes")
        assert (state, data["value"], data["cvv"]) == (PrimitiveState.COMPLETED, VISA, CVV)

    async def test_a_partial_card_is_kept_under_the_new_key(self, fleet: Fleet) -> None:
        await fleet.say(fleet.replica(A), "4111 1111 1111 1111")
        assert _key_ids(await fleet.kept()) == {"A"}
        state, data = await fleet.say(fleet.replica(B, A), "hmm")
        assert (state, data["reason"]) == (PrimitiveState.INCOMPLETE, "no_value_heard")
        assert _key_ids(await fleet.kept()) == {"B"}

    async def test_a_replica_still_sealing_with_the_old_key_moves_it_back(
        self, fleet: Fleet
    ) -> None:
        """Step 1 and step 2 of a rotation serve at once: each seals with its first key."""
        await fleet.say(fleet.replica(B, A), "4111 1111 1111 1111")
        await fleet.say(fleet.replica(A, B), "hmm")
        assert _key_ids(await fleet.kept()) == {"A"}


class TestRetryAcrossRotation:
    async def test_a_completing_turn_retried_at_the_new_key_replays_the_card(
        self, fleet: Fleet
    ) -> None:
        """Its record was made with A (sealed card, fingerprint keyed by A); a replica
        sealing with B but listing A still matches and opens it. Another request under the
        same idempotency key is still a conflict there."""
        await fleet.say(fleet.replica(A), "4111 1111 1111 1111 exp 04/27 cvv 123")
        done = await fleet.send(fleet.replica(A), "yes", key="done")
        assert done.success and done.data is not None
        again = await fleet.send(fleet.replica(B, A), "yes", key="done")
        assert again.metadata is not None and again.metadata.replayed
        assert again.data is not None and again.data.to_dict() == done.data.to_dict()
        other = await fleet.send(fleet.replica(B, A), "no", key="done")
        assert other.error is not None and other.error.code == ErrorCode.INVALID_PARAMS
        assert "already used" in other.error.message


OLD_TEXT = base64.b64encode(bytes(range(32))).decode()
NEW_TEXT = base64.b64encode(bytes(range(1, 33))).decode()
#: docs/fleet.md's rotation away from a key of the single-key format, setting by setting.
STEPS = [OLD_TEXT, f"{OLD_TEXT},k2:{NEW_TEXT}", f"k2:{NEW_TEXT},{OLD_TEXT}", f"k2:{NEW_TEXT}"]


class TestRollingRestart:
    @pytest.mark.parametrize("step", range(len(STEPS) - 1))
    @pytest.mark.parametrize("forward", [True, False])
    async def test_replicas_one_step_apart_complete_each_others_captures(
        self, fleet: Fleet, step: int, forward: bool
    ) -> None:
        """During each rollout of the documented procedure, a card held at a replica on one
        setting completes at a replica on the other, in either direction."""
        first, second = STEPS[step], STEPS[step + 1]
        if not forward:
            first, second = second, first
        await fleet.say(fleet.configured(first), "4111 1111 1111 1111 exp 04/27 cvv 123")
        state, data = await fleet.say(fleet.configured(second), "yes")
        assert (state, data["value"]) == (PrimitiveState.COMPLETED, VISA)

    async def test_skipping_a_step_loses_the_capture(self, fleet: Fleet) -> None:
        """The reason for three rollouts: a card sealed at step 1 does not open at step 3."""
        await fleet.say(fleet.configured(STEPS[1]), "4111 1111 1111 1111 exp 04/27 cvv 123")
        state, data = await fleet.say(fleet.configured(STEPS[3]), "yes")
        assert (state, data["reason"]) == (PrimitiveState.INCOMPLETE, "no_value_heard")
