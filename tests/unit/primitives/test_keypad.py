"""Keypad input (``dtmf``) through the real primitives, as the wire sends it: what callers type
into an IVR, alone or beside a transcription, over one or several turns."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests._cases import cases
from tests.unit.primitives.test_caller_cases import COMPLETED, INCOMPLETE, NC, Outcome
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ErrorCode, ExecutePrimitiveRequest
from voicecore.primitive import PrimitiveState
from voicecore.service import VoiceCoreService

_CONVERSATIONS = itertools.count()
FAILED = PrimitiveState.FAILED
KEYPAD_CAPTURES = ("capture_digits", "capture_phone", "capture_number", "capture_amount")


@pytest.fixture(scope="module")
def service() -> VoiceCoreService:
    return VoiceCoreService.from_settings()


async def press(
    service: VoiceCoreService,
    objective_type: str,
    params: dict[str, Any],
    conversation_id: str = "",
) -> Outcome:
    request = ExecutePrimitiveRequest(
        objective_type=objective_type,
        conversation_id=conversation_id,
        params=Struct.from_dict(params),
    )
    response = await service.execute_primitive(request)
    assert response.success, response.error
    assert response.metadata is not None and response.data is not None
    return Outcome(response.metadata.state, response.data.to_dict())


# What a caller types (and what the ASR wrote meanwhile, if anything) -> the value.
TYPED = [
    ("capture_phone", "4155550182#", None, "+14155550182"),
    ("capture_phone", "4155550182", None, "+14155550182"),
    ("capture_phone", "14155550182#", None, "+14155550182"),
    ("capture_phone", "4155550182#99", None, "+14155550182"),
    ("capture_phone", "415*6505550182#", None, "+16505550182"),
    ("capture_phone", "4155550182#", "six five oh five five five", "+14155550182"),
    ("capture_phone", "4155550182#", "[beep beep beep]", "+14155550182"),
    ("capture_phone", "8005550199#", "", "+18005550199"),
    ("capture_digits", "90210#", None, "90210"),
    ("capture_digits", "0070#", None, "0070"),
    ("capture_digits", "12*0070#", None, "0070"),
    ("capture_digits", "1234567890123456#", None, "1234567890123456"),
    ("capture_digits", "44#", "my zip is nine oh two one oh", "44"),
    ("capture_number", "42#", None, "42"),
    ("capture_number", "0042#", None, "42"),
    ("capture_number", "7*3#", None, "3"),
    ("capture_number", "3#", "for", "3"),
    ("capture_number", "1000000", None, "1000000"),
    ("capture_amount", "12*50#", None, "12.50"),
    ("capture_amount", "12*5#", None, "12.50"),
    ("capture_amount", "12#", None, "12.00"),
    ("capture_amount", "0*99#", None, "0.99"),
    ("capture_amount", "1500*00", None, "1500.00"),
    ("capture_amount", "12*50#", "twenty dollars", "12.50"),
]  # fmt: skip

# Entries that give no value, and why.
NOT_A_VALUE = [
    ("capture_phone", "415*", "started_over"),
    ("capture_phone", "1A55550182#", "invalid_keys"),
    ("capture_phone", "5555555555#", "invalid_phone"),
    ("capture_digits", "12B4#", "invalid_keys"),
    ("capture_number", "4*#", "started_over"),
    ("capture_amount", "12*50*1#", "invalid_keys"),
    ("capture_amount", "*50#", "invalid_keys"),
    ("capture_amount", "12*505#", "too_many_decimals"),
    ("capture_amount", "C#", "invalid_keys"),
]  # fmt: skip


class TestAValueTyped:
    @cases(("objective_type", "dtmf", "transcription", "value"), TYPED)
    async def test_keys_give_the_value_exactly(
        self,
        service: VoiceCoreService,
        objective_type: str,
        dtmf: str,
        transcription: str | None,
        value: str,
    ) -> None:
        """Keys are read up to "#", after the last "*" ("." in an amount), whatever the ASR
        wrote; a keyed value is exact: confidence 1."""
        params: dict[str, Any] = {"dtmf": dtmf}
        if transcription is not None:
            params["transcription"] = transcription
        outcome = await press(service, objective_type, params)
        assert (outcome.state, outcome.value) == (NC, value)
        assert outcome.data["candidates"] == []

    @cases(("objective_type", "dtmf", "reason"), NOT_A_VALUE)
    async def test_no_value(
        self, service: VoiceCoreService, objective_type: str, dtmf: str, reason: str
    ) -> None:
        outcome = await press(service, objective_type, {"dtmf": dtmf})
        assert (outcome.state, outcome.data["reason"]) == (INCOMPLETE, reason)

    @pytest.mark.parametrize("objective_type", KEYPAD_CAPTURES)
    @pytest.mark.parametrize("dtmf", ["", "#", "#123"])
    async def test_no_keys_read_the_transcription(
        self, service: VoiceCoreService, objective_type: str, dtmf: str
    ) -> None:
        """A ``dtmf`` with no key before "#" is no keypad input: the words are read (a
        phone number's one digit is kept as partial)."""
        outcome = await press(service, objective_type, {"dtmf": dtmf, "transcription": "nine"})
        assert outcome.data.get("value", outcome.data.get("partial")) in ("9", "9.00")

    async def test_a_confidence_of_one(self, service: VoiceCoreService) -> None:
        request = ExecutePrimitiveRequest(
            objective_type="capture_phone", params=Struct.from_dict({"dtmf": "4155550182#"})
        )
        response = await service.execute_primitive(request)
        assert response.metadata is not None and response.metadata.confidence == 1.0


# Typed first, then answered at the readback (keys or words) -> state and value.
ANSWERS = [
    ("capture_phone", "4155550182#", {"dtmf": "1"}, COMPLETED, "+14155550182"),
    ("capture_phone", "4155550182#", {"dtmf": "1#"}, NC, "+14155550182"),
    ("capture_phone", "4155550182#", {"dtmf": "2#"}, NC, "+14155550182"),
    ("capture_phone", "4155550182#", {"dtmf": "*"}, INCOMPLETE, None),
    ("capture_phone", "4155550182#", {"dtmf": "415*#"}, INCOMPLETE, None),
    ("capture_phone", "4155550182#", {"dtmf": "2"}, INCOMPLETE, None),
    ("capture_phone", "4155550182#", {"dtmf": "6505550182#"}, NC, "+16505550182"),
    ("capture_phone", "4155550182#", {"dtmf": "4155550182#"}, COMPLETED, "+14155550182"),
    ("capture_phone", "4155550182#", {"dtmf": "9"}, NC, "+14155550182"),
    ("capture_phone", "4155550182#", {"transcription": "yes that's right"}, COMPLETED,
     "+14155550182"),
    ("capture_phone", "4155550182#", {"transcription": "no", "dtmf": "1"}, COMPLETED,
     "+14155550182"),
    ("capture_digits", "90210#", {"dtmf": "1"}, COMPLETED, "90210"),
    ("capture_digits", "90210#", {"dtmf": "2#"}, NC, "2"),
    ("capture_digits", "90210#", {"dtmf": "2"}, INCOMPLETE, None),
    ("capture_digits", "90210#", {"dtmf": "*"}, INCOMPLETE, None),
    ("capture_digits", "90210#", {"dtmf": "90211#"}, NC, "90211"),
    ("capture_digits", "90210#", {"transcription": "the last digit is five"}, NC, "90215"),
    ("capture_number", "42#", {"dtmf": "1"}, COMPLETED, "42"),
    ("capture_number", "42#", {"dtmf": "43"}, NC, "43"),
    ("capture_number", "42#", {"dtmf": "2#"}, NC, "2"),
    ("capture_number", "2#", {"dtmf": "2#"}, COMPLETED, "2"),
    ("capture_number", "2#", {"dtmf": "2"}, INCOMPLETE, None),
    ("capture_number", "1#", {"dtmf": "1#"}, COMPLETED, "1"),
    ("capture_amount", "12*50#", {"dtmf": "1"}, COMPLETED, "12.50"),
    ("capture_amount", "12*50#", {"dtmf": "2"}, INCOMPLETE, None),
    ("capture_amount", "12*50#", {"dtmf": "15*25#"}, NC, "15.25"),
    ("capture_amount", "12*50#", {"dtmf": "*"}, NC, "12.50"),
    ("capture_amount", "12*50#", {"transcription": "no, the cents are 25"}, NC, "12.25"),
]  # fmt: skip


class TestAnswersToTheReadback:
    @cases(("objective_type", "typed", "answer", "state", "value"), ANSWERS)
    async def test_answer(
        self,
        service: VoiceCoreService,
        objective_type: str,
        typed: str,
        answer: dict[str, Any],
        state: object,
        value: str | None,
    ) -> None:
        """A bare 1 is yes, a bare 2 or an entry ending in "*" is no; other keys ("1#", "2#"
        too) a new value (the same value again is a yes), keys that read as nothing are not
        understood; words still work."""
        conversation = f"keys-{next(_CONVERSATIONS)}"
        held = await press(service, objective_type, {"dtmf": typed}, conversation)
        assert held.state is NC
        outcome = await press(service, objective_type, answer, conversation)
        assert (outcome.state, outcome.value) == (state, value)

    async def test_one_digit_values_typed_at_their_readback(
        self, service: VoiceCoreService
    ) -> None:
        """A one-digit value: "1#" is held, "2#" corrects it to 2, "2#" again confirms it."""
        conversation = f"keys-{next(_CONVERSATIONS)}"
        one_digit = {"min_length": 1, "max_length": 1}
        held = await press(service, "capture_digits", {"dtmf": "1#", **one_digit}, conversation)
        assert (held.state, held.value) == (NC, "1")
        corrected = await press(
            service, "capture_digits", {"dtmf": "2#", **one_digit}, conversation
        )
        assert (corrected.state, corrected.value) == (NC, "2")
        done = await press(service, "capture_digits", {"dtmf": "2#", **one_digit}, conversation)
        assert (done.state, done.value) == (COMPLETED, "2")

    async def test_star_at_the_readback_is_a_no(self, service: VoiceCoreService) -> None:
        """ "*" at the readback rejects the held value like a bare no: an attempt spent each
        time, never counted as an answer not understood; past the last attempt, FAILED
        with reason ``rejected`` (not ``unclear_answers``)."""
        conversation = f"keys-{next(_CONVERSATIONS)}"
        for attempt in (1, 2, 3):
            held = await press(service, "capture_phone", {"dtmf": "4155550182#"}, conversation)
            assert (held.state, held.data["attempts"]) == (NC, attempt)
            over = await press(service, "capture_phone", {"dtmf": "*"}, conversation)
            assert over.data["reason"] == "rejected"
        assert over.state is FAILED

    async def test_partial_phone_by_keys(self, service: VoiceCoreService) -> None:
        """Six digits typed wait for the rest; the next keys complete the number, and "*"
        starts over, dropping the digits kept."""
        conversation = f"keys-{next(_CONVERSATIONS)}"
        first = await press(service, "capture_phone", {"dtmf": "415555#"}, conversation)
        assert (first.state, first.data["partial"]) == (INCOMPLETE, "415555")
        done = await press(service, "capture_phone", {"dtmf": "0182#"}, conversation)
        assert (done.state, done.value) == (NC, "+14155550182")
        conversation = f"keys-{next(_CONVERSATIONS)}"
        await press(service, "capture_phone", {"dtmf": "415555#"}, conversation)
        over = await press(service, "capture_phone", {"dtmf": "*0182#"}, conversation)
        assert (over.state, over.data["partial"]) == (INCOMPLETE, "0182")

    async def test_star_alone_starts_over(self, service: VoiceCoreService) -> None:
        """ "*" alone drops the digits kept, spends no attempt and asks afresh."""
        conversation = f"keys-{next(_CONVERSATIONS)}"
        await press(service, "capture_phone", {"dtmf": "415555#"}, conversation)
        over = await press(service, "capture_phone", {"dtmf": "*"}, conversation)
        assert (over.state, over.data["reason"], over.data["attempts"]) == (
            INCOMPLETE,
            "started_over",
            1,
        )
        assert "partial" not in over.data
        assert over.data["prompt"] == "Okay, let's start over. What is your phone number?"
        done = await press(service, "capture_phone", {"dtmf": "6505550182"}, conversation)
        assert (done.state, done.value, done.data["attempts"]) == (NC, "+16505550182", 1)

    async def test_spoken_partial_completed_by_keys(self, service: VoiceCoreService) -> None:
        conversation = f"keys-{next(_CONVERSATIONS)}"
        params = {"transcription": "four one five five five five"}
        await press(service, "capture_phone", params, conversation)
        done = await press(service, "capture_phone", {"dtmf": "0182"}, conversation)
        assert (done.state, done.value) == (NC, "+14155550182")


# confirm: keys -> the answer (None: unclear)
CONFIRM_KEYS = [
    ("1", None, "yes"),
    ("1#", None, "yes"),
    ("2", None, "no"),
    ("2#", "yes", "no"),
    ("1", "no no no", "yes"),
    ("#", "yeah", "yes"),
    ("3", None, None),
    ("12", None, None),
    ("*", "yes", None),
]  # fmt: skip


class TestConfirm:
    @cases(("dtmf", "transcription", "answer"), CONFIRM_KEYS)
    async def test_keys(
        self,
        service: VoiceCoreService,
        dtmf: str,
        transcription: str | None,
        answer: str | None,
    ) -> None:
        """1 is yes and 2 is no, exactly; any other key is unclear; keys win over words."""
        params: dict[str, Any] = {"dtmf": dtmf}
        if transcription is not None:
            params["transcription"] = transcription
        request = ExecutePrimitiveRequest(objective_type="confirm", params=Struct.from_dict(params))
        response = await service.execute_primitive(request)
        assert response.metadata is not None and response.data is not None
        data = response.data.to_dict()
        if answer is None:
            assert (response.metadata.state, data["reason"]) == (INCOMPLETE, "unclear")
        else:
            assert (response.metadata.state, data["value"]) == (COMPLETED, answer)
            if dtmf.partition("#")[0]:  # keys pressed: exact
                assert response.metadata.confidence == 1.0


# Params refused with INVALID_PARAMS, and the field the message names.
REFUSED = [
    ("capture_phone", {"dtmf": "415-555-0182"}, "dtmf"),
    ("capture_digits", {"dtmf": "12 34"}, "dtmf"),
    ("capture_number", {"dtmf": "1" * 65}, "dtmf"),
    ("capture_amount", {"dtmf": "12.50"}, "dtmf"),
    ("capture_amount", {"dtmf": "a"}, "dtmf"),
    ("confirm", {"dtmf": "yes"}, "dtmf"),
    ("capture_phone", {}, "transcription or dtmf is required"),
    ("confirm", {"alternatives": []}, "transcription or dtmf is required"),
    ("capture_email", {"transcription": "x", "dtmf": "1"}, "dtmf"),
    ("capture_name", {"transcription": "x", "dtmf": "1"}, "dtmf"),
    ("capture_date", {"transcription": "x", "dtmf": "1"}, "dtmf"),
    ("capture_time", {"transcription": "x", "dtmf": "1"}, "dtmf"),
    ("capture_email", {"dtmf": "1"}, "transcription"),
]  # fmt: skip


class TestParamsRefused:
    @cases(("objective_type", "params", "named"), REFUSED)
    async def test_invalid_params_name_the_field(
        self, service: VoiceCoreService, objective_type: str, params: dict[str, Any], named: str
    ) -> None:
        """Only keypad characters, at most 64; a capture that cannot take keys refuses
        ``dtmf`` as an unknown field."""
        request = ExecutePrimitiveRequest(
            objective_type=objective_type, params=Struct.from_dict(params)
        )
        response = await service.execute_primitive(request)
        assert not response.success and response.error is not None
        assert response.error.code is ErrorCode.INVALID_PARAMS
        assert named in response.error.message
        assert "415-555-0182" not in response.error.message
