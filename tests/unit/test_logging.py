"""Logs: JSON lines with the call's context, grpclib's stdlib logs routed in, no clear values."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import ClassVar

import pytest
from loguru import logger

from voicecore._logging import configure_logging
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore.capture import InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.primitive import Primitive, PrimitiveContext, PrimitiveParams, PrimitiveResult
from voicecore.registry import PrimitiveRegistry
from voicecore.service import VoiceCoreService


@pytest.fixture
def records() -> Iterator[list[dict[str, object]]]:
    """Every log record as the JSON sink would write it, at DEBUG and above."""
    captured: list[dict[str, object]] = []
    configure_logging("DEBUG", json=True)
    sink = logger.add(lambda m: captured.append(json.loads(m)["record"]), serialize=True)
    yield captured
    logger.remove(sink)
    logger.remove()
    logger.disable("voicecore")
    logging.basicConfig(handlers=[], force=True)


class TestLogging:
    async def test_call_lines_carry_context_and_no_clear_value(
        self, records: list[dict[str, object]]
    ) -> None:
        """A capture logs its trace id and objective type, never the email it heard."""
        service = VoiceCoreService.from_settings(Settings())
        request = ExecutePrimitiveRequest(
            objective_type="capture_email",
            params=Struct.from_dict({"transcription": "secret dot person at gmail dot com"}),
            conversation_id="log-conv",
            trace_id="log-trace",
        )
        response = await service.execute_primitive(request)
        assert response.success
        mine = [r for r in records if r["extra"].get("trace_id") == "log-trace"]  # type: ignore[attr-defined]
        assert mine, "the call logged nothing with its trace id"
        assert all(r["extra"]["objective_type"] == "capture_email" for r in mine)  # type: ignore[index]
        dumped = json.dumps(records)
        assert "secret.person" not in dumped and "secret dot person" not in dumped

    def test_stdlib_logs_are_routed_to_loguru(self, records: list[dict[str, object]]) -> None:
        """grpclib's stdlib warnings reach the loguru sink."""
        logging.getLogger("grpclib.server").warning("stdlib says hi")
        assert any(r["message"] == "stdlib says hi" for r in records)

    def test_stdlib_levels_loguru_lacks_keep_their_number(
        self, records: list[dict[str, object]]
    ) -> None:
        """A custom stdlib level (no loguru name) arrives with its numeric severity."""
        logging.getLogger("grpclib.server").log(35, "between warning and error")
        [record] = [r for r in records if r["message"] == "between warning and error"]
        assert record["level"]["no"] == 35  # type: ignore[index]

    async def test_library_is_silent_until_configured(self) -> None:
        """With voicecore's logger disabled (the import default), a call logs nothing."""
        captured: list[str] = []
        logger.disable("voicecore")
        sink = logger.add(captured.append, level="TRACE")
        try:
            service = VoiceCoreService.from_settings(Settings())
            await service.execute_primitive(ExecutePrimitiveRequest(objective_type="nope"))
            assert captured == []
        finally:
            logger.remove(sink)


class TestForgedLines:
    async def test_control_characters_in_ids_cannot_start_a_line(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A conversation id with a newline and a fake log line stays inside its own line."""
        forged = "c\n2001-01-01 00:00:00.000 INFO     voicecore forged line"
        configure_logging("DEBUG")
        try:
            service = VoiceCoreService.from_settings(Settings())
            await service.execute_primitive(
                ExecutePrimitiveRequest(objective_type="capture_email", conversation_id=forged)
            )
        finally:
            logger.remove()
            logger.disable("voicecore")
            logging.basicConfig(handlers=[], force=True)
        lines = capsys.readouterr().err.splitlines()
        assert any("forged line" in line for line in lines)
        assert not any(line.startswith("2001-01-01") for line in lines)


class _Leaky(Primitive[PrimitiveParams]):
    """A bug whose message quotes something secret."""

    name: ClassVar[str] = "leaky"
    version: ClassVar[str] = "0.0.1"
    description: ClassVar[str] = "raises with a secret in the message"
    params_model: ClassVar[type[PrimitiveParams]] = PrimitiveParams

    async def execute(self, params: PrimitiveParams, ctx: PrimitiveContext) -> PrimitiveResult:
        raise RuntimeError("secret-token-123")


class TestUnexpectedErrors:
    async def test_error_line_names_the_bug_without_its_message(
        self, records: list[dict[str, object]]
    ) -> None:
        """An INTERNAL logs the exception type and place at ERROR; its text only at DEBUG."""
        settings = Settings()
        service = VoiceCoreService(
            PrimitiveRegistry([_Leaky()]),
            settings=settings,
            events=InMemoryEventLog(first_sequence=1),
            captures=InMemoryCaptureStore(),
        )
        request = ExecutePrimitiveRequest(objective_type="leaky", trace_id="bug-trace")
        response = await service.execute_primitive(request)
        assert response.error is not None
        errors = [r for r in records if r["level"]["name"] == "ERROR"]  # type: ignore[index]
        assert len(errors) == 1
        assert errors[0]["extra"]["error"] == "RuntimeError"  # type: ignore[index]
        assert "secret-token-123" not in json.dumps(errors)
        debug = [r for r in records if r["level"]["name"] == "DEBUG"]  # type: ignore[index]
        assert any("secret-token-123" in json.dumps(r) for r in debug)
