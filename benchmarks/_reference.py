"""The reference server: grpcio's ``grpc.aio`` with protobuf stubs generated from our proto.

The handler runs the same primitive code as voicecore (the in-process ``VoiceCoreService``, so the
registry, validation, capture store and event log are the same objects), so only transport and
codec differ. The protobuf request is handed over as bytes and parsed into the betterproto2 request
by upb (``voicecore._codec``), and the response comes back the same way: about 2 us of extra
copying per call, on the reference's side.

    python benchmarks/_reference.py --port 50101 --stubs /tmp/stubs
    python benchmarks/_reference.py --port 50101 --stubs /tmp/stubs --tls-cert c.pem --tls-key k.pem
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys
from pathlib import Path
from typing import Any

import grpc

from voicecore._codec import decode_message, encode_message
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

__all__ = ["main"]


def _servicer(stubs: str, service: VoiceCoreService) -> tuple[Any, Any]:
    sys.path.insert(0, stubs)
    pb2 = importlib.import_module("vcref.voice_core_pb2")
    pb2_grpc = importlib.import_module("vcref.voice_core_pb2_grpc")

    class Servicer(pb2_grpc.VoiceCoreServiceServicer):  # type: ignore[misc, name-defined]
        async def ExecutePrimitive(self, request: Any, context: Any) -> Any:
            message = decode_message(request.SerializeToString(), ExecutePrimitiveRequest)
            response = await service.execute_primitive(message)
            return pb2.ExecutePrimitiveResponse.FromString(encode_message(response))

    return Servicer(), pb2_grpc


async def _serve(port: int, stubs: str, tls: tuple[str, str] | None) -> None:
    service = VoiceCoreService.from_settings(Settings(debug_primitives=True))
    servicer, pb2_grpc = _servicer(stubs, service)
    server = grpc.aio.server()
    pb2_grpc.add_VoiceCoreServiceServicer_to_server(servicer, server)
    if tls is None:
        server.add_insecure_port(f"127.0.0.1:{port}")
    else:
        cert, key = (Path(name).read_bytes() for name in tls)
        credentials = grpc.ssl_server_credentials([(key, cert)])
        server.add_secure_port(f"127.0.0.1:{port}", credentials)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(0.5)


def main() -> None:
    """Parse the flags and serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stubs", required=True, help="folder holding the generated vcref package")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve TLS (with --tls-key)")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args()
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    asyncio.run(_serve(args.port, args.stubs, tls))


if __name__ == "__main__":
    main()
