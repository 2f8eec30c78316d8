"""Settings from flags and VOICECORE_* variables, with messages that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voicecore.config import Settings


class TestSettings:
    def test_defaults(self) -> None:
        """Port 50051, 30 s default timeout, 100,000 events retained."""
        settings = Settings()
        assert (settings.port, settings.default_timeout, settings.event_retention) == (
            50051,
            30.0,
            100_000,
        )

    def test_environment_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """VOICECORE_PORT and VOICECORE_DEBUG_PRIMITIVES configure the server."""
        monkeypatch.setenv("VOICECORE_PORT", "6000")
        monkeypatch.setenv("VOICECORE_DEBUG_PRIMITIVES", "1")
        settings = Settings()
        assert settings.port == 6000 and settings.debug_primitives

    def test_flag_beats_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An explicit value wins over the environment."""
        monkeypatch.setenv("VOICECORE_PORT", "6000")
        assert Settings(port=7000).port == 7000

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("port", 70000),
            ("default_timeout", 0),
            ("default_timeout", float("inf")),
            ("log_level", "LOUD"),
            ("event_retention", 0),
            ("capture_ttl", 0),
            ("capture_ttl", float("inf")),
        ],
    )
    def test_bad_values_name_the_field(self, field: str, value: object) -> None:
        """Validation errors carry the field's name."""
        with pytest.raises(ValidationError) as info:
            Settings.model_validate({field: value})
        assert info.value.errors()[0]["loc"] == (field,)

    def test_log_level_is_case_insensitive(self) -> None:
        """debug is DEBUG."""
        assert Settings(log_level="debug").log_level == "DEBUG"

    def test_frozen(self) -> None:
        """Settings cannot change once built."""
        with pytest.raises(ValidationError):
            Settings().port = 1

    @pytest.mark.parametrize("field", ["max_timeout", "grace_period", "idempotency_ttl"])
    def test_endless_seconds_are_refused(self, field: str) -> None:
        """A duration without an upper bound must still be a finite number of seconds."""
        with pytest.raises(ValidationError, match="finite number of seconds") as info:
            Settings.model_validate({field: float("inf")})
        assert info.value.errors()[0]["loc"] == (field,)

    def test_default_timeout_within_max(self) -> None:
        """A default longer than the largest allowed timeout is refused, naming both."""
        with pytest.raises(ValidationError, match="default_timeout should not exceed max_timeout"):
            Settings(default_timeout=900, max_timeout=600)


class TestConnectionLimits:
    """Settings that keep one HTTP/2 connection from locking out or flooding the server."""

    def test_defaults(self) -> None:
        """100 streams and calls per connection, 1 s for a request to arrive, 200/1000 per 10 s."""
        settings = Settings()
        assert (
            settings.max_streams_per_connection,
            settings.max_calls_per_connection,
            settings.request_arrival_timeout,
            settings.flood_window,
            settings.flood_max_resets,
            settings.flood_max_control_frames,
        ) == (100, 100, 1.0, 10.0, 200, 1000)

    def test_environment_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """VOICECORE_REQUEST_ARRIVAL_TIMEOUT and VOICECORE_FLOOD_MAX_RESETS configure them."""
        monkeypatch.setenv("VOICECORE_REQUEST_ARRIVAL_TIMEOUT", "0.5")
        monkeypatch.setenv("VOICECORE_FLOOD_MAX_RESETS", "50")
        settings = Settings()
        assert (settings.request_arrival_timeout, settings.flood_max_resets) == (0.5, 50)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("max_streams_per_connection", 0),
            ("max_streams_per_connection", 10_001),
            ("max_calls_per_connection", 0),
            ("request_arrival_timeout", 0),
            ("request_arrival_timeout", 61),
            ("request_arrival_timeout", float("nan")),
            ("flood_window", 0),
            ("flood_window", float("inf")),
            ("flood_max_resets", 0),
            ("flood_max_control_frames", 0),
        ],
    )
    def test_out_of_bounds_is_refused_naming_the_field(self, field: str, value: object) -> None:
        """Each limit has bounds; a value past them is an error that names the field."""
        with pytest.raises(ValidationError) as info:
            Settings.model_validate({field: value})
        assert info.value.errors()[0]["loc"] == (field,)
