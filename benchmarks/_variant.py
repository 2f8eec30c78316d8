"""A voicecore server with one optimisation switched on or off, for side-by-side benchmarks.

``voicecore serve`` runs the server as shipped; this launcher runs the same ``VoiceCoreServer``
with the codec and event loop chosen on the command line, so the table can show what each
step buys before (and after) it is wired into the shipped server.

    python benchmarks/_variant.py --port 50100 --codec upb --loop uvloop
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from grpclib.encoding.proto import ProtoCodec

from voicecore._codec import UpbCodec
from voicecore._logging import configure_logging
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

__all__ = ["main"]


async def _serve(settings: Settings, codec: str) -> None:
    server = VoiceCoreServer(settings)
    if codec == "upb":
        server._server._codec = UpbCodec(settings.max_message_bytes)
    elif codec == "plain":
        server._server._codec = ProtoCodec()  # betterproto2's pure-Python parse and bytes()
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
    parser.add_argument("--codec", choices=["shipped", "plain", "upb"], default="shipped")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    settings = Settings(host="127.0.0.1", port=args.port, debug_primitives=True)
    configure_logging(settings.log_level, json=False)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(_serve(settings, args.codec))
    else:
        asyncio.run(_serve(settings, args.codec))


if __name__ == "__main__":
    main()
