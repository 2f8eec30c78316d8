"""The tunables that were hard-coded: the retry backoff, and the codec and write switches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore.config import Settings
from voicecore.service import VoiceCoreService


class TestDefaults:
    def test_backoff_defaults_are_the_former_constants(self) -> None:
        """20 ms doubling, at most 0.5 s, plus up to 20 ms of jitter."""
        settings = Settings()
        assert (
            settings.retry_backoff_initial,
            settings.retry_backoff_max,
            settings.retry_backoff_jitter,
        ) == (0.02, 0.5, 0.02)

    def test_fast_paths_are_on(self) -> None:
        """upb codec and coalesced writes unless switched off."""
        settings = Settings()
        assert (settings.codec, settings.coalesce_writes) == ("upb", True)

    def test_environment_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """VOICECORE_CODEC, VOICECORE_COALESCE_WRITES and VOICECORE_RETRY_BACKOFF_* apply."""
        monkeypatch.setenv("VOICECORE_CODEC", "betterproto2")
        monkeypatch.setenv("VOICECORE_COALESCE_WRITES", "false")
        monkeypatch.setenv("VOICECORE_RETRY_BACKOFF_MAX", "2")
        settings = Settings()
        assert (settings.codec, settings.coalesce_writes, settings.retry_backoff_max) == (
            "betterproto2",
            False,
            2.0,
        )


class TestValidation:
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("retry_backoff_initial", 0),
            ("retry_backoff_initial", float("inf")),
            ("retry_backoff_max", float("nan")),
            ("retry_backoff_jitter", -0.1),
            ("retry_backoff_jitter", float("inf")),
            ("codec", "protobuf"),
            ("coalesce_writes", "sometimes"),
        ],
    )
    def test_bad_values_name_the_field(self, field: str, value: object) -> None:
        """Each refused value is reported under its field's name."""
        with pytest.raises(ValidationError) as info:
            Settings.model_validate({field: value})
        assert info.value.errors()[0]["loc"] == (field,)

    def test_max_not_below_initial(self) -> None:
        """A longest wait shorter than the first one is refused, naming both."""
        message = "retry_backoff_max should not be below retry_backoff_initial"
        with pytest.raises(ValidationError, match=message):
            Settings(retry_backoff_initial=1.0, retry_backoff_max=0.5)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The seconds the executor waits between tries, recorded instead of slept."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def record(seconds: float) -> None:
        recorded.append(seconds)
        await real_sleep(0)

    # The executor waits with asyncio.sleep; nothing else in these calls sleeps.
    monkeypatch.setattr(asyncio, "sleep", record)
    yield recorded


class TestBackoffIsUsed:
    async def test_waits_follow_the_settings(self, waits: list[float]) -> None:
        """Without jitter the waits are initial, then doubled, capped at max."""
        settings = Settings(
            debug_primitives=True,
            retry_attempts=4,
            retry_backoff_initial=0.25,
            retry_backoff_max=0.75,
            retry_backoff_jitter=0,
        )
        service = VoiceCoreService.from_settings(settings)
        request = ExecutePrimitiveRequest(
            objective_type="debug_flaky",
            params=Struct.from_dict({"failures": 3}),
            conversation_id="c",
        )
        response = await service.execute_primitive(request)
        assert response.success
        assert waits == [0.25, 0.5, 0.75]
