"""The shipped voicecore server with one optimisation switched off (or uvloop on), for ablations.

``voicecore serve`` runs the server as shipped; this launcher runs the same ``VoiceCoreServer``
with the codec, the write coalescing or the event loop chosen on the command line, so the table
shows what each optimisation buys, measured side by side with the shipped server.

    python benchmarks/_variant.py --port 50100 --codec plain
    python benchmarks/_variant.py --port 50100 --no-coalesce
    python benchmarks/_variant.py --port 50100 --loop uvloop
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from types import MethodType

from grpclib.encoding.proto import ProtoCodec
from grpclib.server import Server

from voicecore._logging import configure_logging
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

__all__ = ["main"]


async def _serve(settings: Settings, args: argparse.Namespace) -> None:
    server = VoiceCoreServer(settings)
    if args.codec == "plain":
        server._server._codec = ProtoCodec()  # betterproto2's pure-Python parse and bytes()
    if args.no_coalesce:  # grpclib's own protocol: one socket write per frame
        server._server._protocol_factory = MethodType(Server._protocol_factory, server._server)  # type: ignore[method-assign]
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(grace_period=0.5)


def main() -> None:
    """Parse the flags and serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--codec", choices=["shipped", "plain"], default="shipped")
    parser.add_argument("--no-coalesce", action="store_true", help="one socket write per frame")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    settings = Settings(host="127.0.0.1", port=args.port, debug_primitives=True)
    configure_logging(settings.log_level, json=False)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(_serve(settings, args))
    else:
        asyncio.run(_serve(settings, args))


if __name__ == "__main__":
    main()
