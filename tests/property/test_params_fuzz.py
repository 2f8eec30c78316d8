"""Params fuzzing: whatever JSON object arrives as ``params``, the answer is a clean outcome.

For every registered primitive (the debug ones included) a call with any params gets either
success or ``INVALID_PARAMS``: never ``INTERNAL``, never an exception out of the handler. Two
strategies: arbitrary JSON objects (mostly refused by validation), and valid-looking params
(a spoken transcription plus the model's own fields) with wrong types and extra keys mixed in,
so the fuzzer also walks the primitives' success paths over several turns of one conversation.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from tests.strategies import json_objects, json_values
from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
)
from voicecore.config import Settings
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService

__all__: list[str] = []

_REGISTRY = default_registry(debug_primitives=True)
OBJECTIVE_TYPES = _REGISTRY.names()
KEYPAD_TYPES = [
    name for name in OBJECTIVE_TYPES if "dtmf" in _REGISTRY.get(name).params_model.model_fields
]

_LABELS = st.sampled_from(["red", "blue", "the second one", "none", "large pizza", "two"])


@st.composite
def _options(draw: st.DrawFn) -> JsonValue:
    """capture_choice's options: 1 to 4, ids unique."""
    ids = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True))
    options: list[JsonValue] = []
    for id_ in ids:
        synonyms: list[JsonValue] = list(draw(st.lists(_LABELS, max_size=3)))
        options.append({"id": id_, "label": draw(_LABELS), "synonyms": synonyms})
    return options


# Params whose valid values make a call slow (debug_sleep sleeps up to an hour, debug_flaky
# retries with backoff, by default once), or that a call needs and no generic value gives
# (capture_choice's options): near-valid params always carry them, with valid values or
# invalid ones; arbitrary params never do.
_GUARDED_FIELDS: dict[tuple[str, str], st.SearchStrategy[JsonValue]] = {
    ("debug_sleep", "seconds"): st.floats(min_value=0.0, max_value=0.001),
    ("debug_flaky", "failures"): st.just(0),
    ("capture_choice", "options"): _options(),
}
_DATES = TypeAdapter(date)
_SAFE_DATES = (date.min + timedelta(days=366), date.max - timedelta(days=366))
_INVALID_NUMBERS: st.SearchStrategy[JsonValue] = st.one_of(
    st.sampled_from(["", "soon", "-1", 1e9]), st.integers(max_value=-1)
)

# Words the capture primitives understand, so transcriptions reach their parsers' depths.
_SPOKEN_WORDS = st.sampled_from(
    [*"abcdefghijklmnopqrstuvwxyz0123456789"]
    + "at dot underscore dash hyphen plus gmail com net yes no yeah nope correct wrong "
    "actually sorry i mean as in for sam capital double triple oh zero one two three four "
    "five six seven eight nine ten twenty hundred thousand million point minus half "
    "first third of january march tomorrow next monday pm am noon o'clock quarter past "
    "spelled alpha bravo charlie delta echo x-ray main street st avenue north apartment apt "
    "suite unit springfield new york california ca zip 94107 123".split()
)
_utterances = st.lists(_SPOKEN_WORDS, max_size=12).map(" ".join) | st.text(max_size=40)
_plausible_strings = st.sampled_from(
    ["en-US", "fr-FR", "", "US", "GB", "UTC", "Europe", "America/New_York", "Not/AZone",
     "2024-02-29", "2024-13-01", "future", "past", "12", "-3.5", "1e400"]
)  # fmt: skip
_alternatives = st.lists(
    st.fixed_dictionaries(
        {"transcription": _utterances},
        optional={"confidence": st.floats(min_value=0.0, max_value=1.0) | json_values},
    ),
    max_size=3,
)
_field_values: st.SearchStrategy[JsonValue] = st.one_of(
    st.booleans(),
    st.integers(min_value=-2, max_value=12),
    st.floats(min_value=0.0, max_value=1.0),
    _utterances,
    _plausible_strings,
    st.dates().map(date.isoformat),
    _alternatives,
    json_values,
)


# Keypad entries as callers press them (digits, "*" to start over, "#" to end, a bare 1 or 2
# at a readback) and keys no keypad has, for the captures that take a ``dtmf`` param.
_PRESSED = ["1", "2", "#", "*", "1#", "415*", "4155550182#", "12*50#", "ABCD#", "9x"]
_KEYS: st.SearchStrategy[JsonValue] = st.one_of(
    st.text(alphabet="0123456789*#", max_size=20), st.sampled_from(_PRESSED)
)
_FIELDS_BY_NAME: dict[str, st.SearchStrategy[JsonValue]] = {"dtmf": _KEYS | _field_values}


def _field_value(objective_type: str, field_name: str) -> st.SearchStrategy[JsonValue]:
    guarded = _GUARDED_FIELDS.get((objective_type, field_name))
    if guarded is not None:
        return guarded | _INVALID_NUMBERS
    return _FIELDS_BY_NAME.get(field_name, _field_values)


def _params_model(objective_type: str) -> type[BaseModel]:
    return _REGISTRY.get(objective_type).params_model


def _guarded_fields(objective_type: str) -> list[str]:
    return sorted(field for (name, field) in _GUARDED_FIELDS if name == objective_type)


def arbitrary_params(objective_type: str) -> st.SearchStrategy[dict[str, JsonValue]]:
    """Any JSON object, minus the guarded keys that could make the call slow."""
    guarded = set(_guarded_fields(objective_type))
    return json_objects.map(lambda obj: {k: v for k, v in obj.items() if k not in guarded})


@st.composite
def near_valid_params(draw: st.DrawFn, objective_type: str) -> dict[str, JsonValue]:
    """A transcription (if the model takes one), keys pressed (half the time, if it takes
    ``dtmf``; then the transcription may be left out), some of the model's own fields with
    plausible or wrong-typed values, and sometimes an unknown extra key."""
    fields = sorted(_params_model(objective_type).model_fields)
    params: dict[str, JsonValue] = {}
    keyed = "dtmf" in fields and draw(st.booleans())
    pressed = ["dtmf"] if keyed else []
    if "transcription" in fields and not (keyed and draw(st.booleans())):
        params["transcription"] = draw(_utterances)
    chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=3)) if fields else []
    for name in dict.fromkeys([*_guarded_fields(objective_type), *pressed, *chosen]):
        params[name] = draw(_field_value(objective_type, name))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        params.update(draw(arbitrary_params(objective_type)))
    return params


@functools.cache
def _service() -> VoiceCoreService:
    """One service for the module: building one costs ~10 ms (JSON Schemas), a call far less.
    Examples stay independent: each uses its own conversation or none."""
    return VoiceCoreService.from_settings(Settings(debug_primitives=True))


async def _execute(
    service: VoiceCoreService, objective_type: str, params: dict[str, JsonValue], conversation: str
) -> ExecutePrimitiveResponse:
    request = ExecutePrimitiveRequest(
        objective_type=objective_type,
        params=Struct.from_dict(params),
        conversation_id=conversation,
    )
    return await service.execute_primitive(request)


def _assert_clean_outcome(response: ExecutePrimitiveResponse) -> None:
    assert response.metadata is not None
    if response.success:
        assert response.error is None
        return
    assert response.error is not None
    assert response.error.code == ErrorCode.INVALID_PARAMS, response.error.message


by_primitive = pytest.mark.parametrize("objective_type", OBJECTIVE_TYPES)
# A third of the profile's examples per primitive and test keeps the file under ~30 s in the
# ci profile with a dozen primitives; the dev profile still gets a handful each.
fuzz_budget = settings(max_examples=max(10, settings().max_examples // 3))


class TestParamsFuzz:
    """Every primitive answers any params with success or INVALID_PARAMS."""

    @by_primitive
    @fuzz_budget
    @given(data=st.data())
    async def test_arbitrary_json_object(self, objective_type: str, data: st.DataObject) -> None:
        """An arbitrary JSON object as params is a success or INVALID_PARAMS."""
        params = data.draw(arbitrary_params(objective_type), label="params")
        response = await _execute(_service(), objective_type, params, conversation="")
        _assert_clean_outcome(response)

    @by_primitive
    @fuzz_budget
    @given(data=st.data())
    async def test_turns_of_near_valid_params(
        self, objective_type: str, data: st.DataObject
    ) -> None:
        """Up to three turns of near-valid params in one conversation: each clean."""
        service, conversation = _service(), uuid.uuid4().hex
        turns = data.draw(st.integers(min_value=1, max_value=3), label="turns")
        for turn in range(turns):
            params = data.draw(near_valid_params(objective_type), label=f"turn {turn + 1}")
            _assert_clean_outcome(await _execute(service, objective_type, params, conversation))

    @by_primitive
    def test_near_valid_params_reach_success(self, objective_type: str) -> None:
        """The near-valid strategy is not all refusals: it finds a successful call."""

        async def succeeds(params: dict[str, JsonValue]) -> bool:
            return (await _execute(_service(), objective_type, params, "")).success

        found = find(near_valid_params(objective_type), lambda p: asyncio.run(succeeds(p)))
        assert asyncio.run(succeeds(found))

    @pytest.mark.parametrize("objective_type", KEYPAD_TYPES)
    def test_near_valid_params_press_keys(self, objective_type: str) -> None:
        """The near-valid strategy sends keypad entries with no transcription, and among the
        entries it presses is one each keypad capture accepts: the fuzz reaches the keyed path.
        (Searching the whole strategy for a keyed success found none in 2,000 draws for some
        seeds: every other field must also be valid, so it is checked in two parts.)"""

        def keys_alone(params: dict[str, JsonValue]) -> bool:
            return "transcription" not in params and isinstance(params.get("dtmf"), str)

        assert keys_alone(find(near_valid_params(objective_type), keys_alone))
        accepted = [
            keys
            for keys in _PRESSED
            if asyncio.run(_execute(_service(), objective_type, {"dtmf": keys}, "")).success
        ]
        assert accepted, objective_type


class TestFuzzFindings:
    """Inputs fuzzing found once (fixed since): each stays a clean outcome."""

    @pytest.mark.parametrize(
        ("objective_type", "transcription"),
        [
            ("capture_digits", "²"),
            ("capture_digits", "①"),
            ("capture_email", "john² at gmail dot com"),
        ],
    )
    async def test_superscript_digit_is_a_clean_outcome(
        self, objective_type: str, transcription: str
    ) -> None:
        """A superscript or circled digit ('²'.isdigit() but not int('²')) is not INTERNAL."""
        params: dict[str, JsonValue] = {"transcription": transcription}
        _assert_clean_outcome(await _execute(_service(), objective_type, params, ""))


class TestDateFuzzFindings:
    """capture_date inputs fuzzing found once (fixed since): each stays a clean outcome."""

    async def test_weekday_next_to_date_max_is_a_clean_outcome(self) -> None:
        """'next monday' with reference_date 9999-12-31 is not INTERNAL."""
        params: dict[str, JsonValue] = {
            "transcription": "next monday",
            "reference_date": "9999-12-31",
        }
        _assert_clean_outcome(await _execute(_service(), "capture_date", params, ""))

    @pytest.mark.parametrize(
        "timezone", ["US", "America", "z" * 300], ids=["US", "America", "long"]
    )
    async def test_timezone_folder_is_invalid_params(self, timezone: str) -> None:
        """A timezone naming a tzdata folder or too long for a file name is INVALID_PARAMS."""
        params: dict[str, JsonValue] = {"transcription": "tomorrow", "timezone": timezone}
        response = await _execute(_service(), "capture_date", params, "")
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS, response.error.message
