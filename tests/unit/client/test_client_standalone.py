"""The client stands alone: importing it loads no server module; the in-process client loads the
server only when it is built. Each check runs in a fresh interpreter, whose ``sys.modules`` is
what the import really loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# What a process that only calls Voice Core over gRPC loads of voicecore: the client, the leaves
# it shares with the server (errors, JSON values, trace ids), the generated messages.
CLIENT_MODULES = [
    "voicecore",
    "voicecore._json",
    "voicecore._proto",
    "voicecore._proto.google",
    "voicecore._proto.google.protobuf",
    "voicecore._proto.google_proto_descriptor_pool",
    "voicecore._proto.message_pool",
    "voicecore._proto.voicecore",
    "voicecore._proto.voicecore.v1",
    "voicecore._trace",
    "voicecore._version",
    "voicecore.client",
    "voicecore.client._base",
    "voicecore.client._breaker",
    "voicecore.client._config",
    "voicecore.client._errors",
    "voicecore.client._events",
    "voicecore.client._grpc",
    "voicecore.client._inprocess",
    "voicecore.client._metrics",
    "voicecore.client._retry",
    "voicecore.client._security",
    "voicecore.client._tracing",
    "voicecore.errors",
]
# What building an InProcessClient loads beyond them (the script imports Settings itself).
SERVER_MODULES = ["voicecore.service", "voicecore._execution", "voicecore.capture"]

_REPORT = """
import json, sys
def loaded():
    return sorted(m for m in sys.modules if m.startswith("voicecore"))
"""


def _run(script: str) -> dict[str, object]:
    """Run ``script`` in a fresh interpreter; it prints one JSON object, returned here."""
    source = _REPORT + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


class TestClientStandsAlone:
    def test_importing_the_client_loads_only_client_modules(self) -> None:
        """``import voicecore.client`` and a ``VoiceCoreClient`` load exactly the client set."""
        result = _run(
            """
            from voicecore.client import VoiceCoreClient
            VoiceCoreClient("localhost:50051")
            print(json.dumps({"loaded": loaded()}))
            """
        )
        assert result["loaded"] == CLIENT_MODULES

    def test_errors_is_a_leaf(self) -> None:
        """``voicecore.errors`` loads nothing of voicecore beyond the package root."""
        result = _run(
            """
            import voicecore.errors
            print(json.dumps({"loaded": loaded()}))
            """
        )
        assert result["loaded"] == ["voicecore", "voicecore._version", "voicecore.errors"]

    def test_in_process_client_loads_the_server_when_built(self) -> None:
        """InProcessClient imports with the client, builds the service when constructed, and
        runs calls."""
        result = _run(
            """
            import asyncio
            from voicecore.client import InProcessClient
            before = loaded()
            from voicecore.config import Settings
            client = InProcessClient(settings=Settings(debug_primitives=True))
            built = loaded()
            response = asyncio.run(
                client.execute("debug_echo", {"word": "hi"}, conversation_id="c")
            )
            print(json.dumps({
                "before": before,
                "built": built,
                "success": response.success,
                "data": response.data.to_dict(),
            }))
            """
        )
        assert result["before"] == CLIENT_MODULES
        built = result["built"]
        assert isinstance(built, list) and set(SERVER_MODULES) <= set(built)
        assert (result["success"], result["data"]) == (True, {"word": "hi"})
