"""The shipped voicecore server with one optimisation switched off (or uvloop on), for ablations.

``voicecore serve`` runs the server as shipped; this launcher runs the same ``VoiceCoreServer``
with the codec, the write coalescing (the ``codec`` and ``coalesce_writes`` settings) or the
event loop chosen on the command line, so the table shows what each optimisation buys, measured
side by side with the shipped server.

    python benchmarks/_variant.py --port 50100 --codec plain
    python benchmarks/_variant.py --port 50100 --no-coalesce
    python benchmarks/_variant.py --port 50100 --loop uvloop
"""

from __future__ import annotations

import argparse
import asyncio

from voicecore._logging import configure_logging
from voicecore.config import Settings
from voicecore.server import serve

__all__ = ["main"]


def main() -> None:
    """Parse the flags and serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--codec",
        choices=["shipped", "plain"],
        default="shipped",
        help="plain: betterproto2's own parse and bytes()",
    )
    parser.add_argument("--no-coalesce", action="store_true", help="one socket write per frame")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    settings = Settings(
        host="127.0.0.1",
        port=args.port,
        debug_primitives=True,
        codec="betterproto2" if args.codec == "plain" else "upb",
        coalesce_writes=not args.no_coalesce,
        grace_period=0.5,
    )
    configure_logging(settings.log_level, json=False)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve(settings))
    else:
        asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
