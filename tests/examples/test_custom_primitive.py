"""examples/custom_primitive.py: a capture primitive written with public imports only, that runs."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from tests._servers import ServerProcess, free_port, wait_serving
from voicecore._json import JsonValue
from voicecore.capture import CaptureParams, InMemoryCaptureStore, run_turn
from voicecore.client import VoiceCoreClient
from voicecore.primitive import PrimitiveContext, PrimitiveResult, PrimitiveState

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "examples" / "custom_primitive.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("custom_primitive_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()


def private_imports(source: str) -> Iterator[str]:
    """Each import in ``source`` that names a private module or name (a part starting "_")."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if any(part.startswith("_") for part in name.split(".") if part != "__future__"):
                yield name


@dataclass
class Caller:
    """One conversation with the example's primitive through the capture machine."""

    store: InMemoryCaptureStore = field(default_factory=InMemoryCaptureStore)

    async def emit(self, event_type: str, payload: Mapping[str, JsonValue]) -> int:
        return 0

    async def say(self, text: str) -> PrimitiveResult:
        context = PrimitiveContext(
            objective_type=example.CaptureOrderNumber.name,
            trace_id="0" * 32,
            emit=self.emit,
            captures=self.store,
            conversation_id="call-1",
        )
        params = CaptureParams(transcription=text)
        result: PrimitiveResult = await run_turn(example.CaptureOrderNumber(), params, context)
        return result


class TestPublicImportsOnly:
    def test_the_example_imports_nothing_private(self) -> None:
        """No module path or name the example imports starts with an underscore."""
        assert list(private_imports(EXAMPLE.read_text())) == []

    @pytest.mark.parametrize(
        "source",
        [
            "from voicecore.capture._machine import advance",
            "import voicecore._json",
            "from voicecore import _codec",
            "from ._private import x",
        ],
    )
    def test_the_check_sees_private_imports(self, source: str) -> None:
        """A private module, submodule or name is reported."""
        assert list(private_imports(source)) != []


class TestRun:
    def test_runs_the_caller_to_a_confirmed_number(self) -> None:
        """Run as a script, it prints each turn and ends with the corrected number confirmed."""
        env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        done = subprocess.run(
            [sys.executable, str(EXAMPLE)],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPOSITORY,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        states = [
            line.split(":")[0].strip() for line in done.stdout.splitlines() if line[:2] == "  "
        ]
        assert states == ["INCOMPLETE", "NEEDS_CONFIRMATION", "NEEDS_CONFIRMATION", "COMPLETED"]
        assert "bad_check_digit" in done.stdout
        assert done.stdout.splitlines()[-1].endswith("four nine two seven three one eight eight.")


class TestServe:
    async def test_serves_it_over_grpc_beside_the_built_ins(self) -> None:
        """``--serve PORT``: a gRPC client lists and calls it beside the built-in primitives,
        and SIGTERM ends the server cleanly."""
        port = free_port()
        server = ServerProcess(
            [sys.executable, str(EXAMPLE), "--serve", str(port)],
            port,
            env={"PYTHONPATH": str(REPOSITORY)},
            cwd=REPOSITORY,
        )
        try:
            await wait_serving(server.host, port)
            async with VoiceCoreClient(server.target) as client:
                listing = await client.list_primitives()
                response = await client.execute(
                    "capture_order_number",
                    {"transcription": "four nine two seven three one five four"},
                    conversation_id="call-1",
                )
        finally:
            await server.stop_async()
        listed = {info.objective_type for info in listing.primitives}
        assert {"capture_order_number", "capture_email"} <= listed
        assert response.metadata is not None and response.data is not None
        assert response.metadata.state == PrimitiveState.NEEDS_CONFIRMATION
        assert response.data.to_dict()["value"] == "49273154"
        assert server.exit_code() == 0


class TestCaptureOrderNumber:
    async def test_valid_number_completes_after_confirmation(self) -> None:
        """A number with a right check digit is read back, then a yes completes it."""
        caller = Caller()
        heard = await caller.say("it's four nine two seven three one five four")
        assert (heard.state, heard.data["value"]) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            "49273154",
        )
        done = await caller.say("yes")
        assert (done.state, done.data["value"]) == (PrimitiveState.COMPLETED, "49273154")

    async def test_bad_check_digit_is_rejected(self) -> None:
        """One misheard digit breaks the check: no value, and the reason says so."""
        result = await Caller().say("4 9 2 7 3 1 5 5")
        assert (result.state, result.data["reason"]) == (
            PrimitiveState.INCOMPLETE,
            "bad_check_digit",
        )
        assert "value" not in result.data

    async def test_correction_edits_the_tail(self) -> None:
        """ "the last two digits are ..." edits the held number, which is read back again."""
        caller = Caller()
        await caller.say("four nine two seven three one five four")
        fixed = await caller.say("no, the last two digits are eight eight")
        assert (fixed.state, fixed.data["value"]) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            "49273188",
        )

    async def test_correction_that_breaks_the_check_is_not_taken(self) -> None:
        """An edit to a number with a wrong check digit is not a correction: the number held
        is kept and asked about again."""
        caller = Caller()
        await caller.say("four nine two seven three one five four")
        refused = await caller.say("no, the last digit is nine")
        assert refused.state is PrimitiveState.NEEDS_CONFIRMATION
        assert (refused.data["value"], refused.attempt) == ("49273154", 1)

    async def test_digits_over_two_turns(self) -> None:
        """Fewer than eight digits are kept and completed by the next turn."""
        caller = Caller()
        first = await caller.say("four nine two seven")
        assert (first.state, first.data["partial"]) == (PrimitiveState.INCOMPLETE, "4927")
        rest = await caller.say("three one five four")
        assert rest.data["value"] == "49273154"

    def test_check_digit(self) -> None:
        """The Luhn check digit of a known number (79927398713's payload)."""
        assert example.check_digit("7992739871") == "3"
