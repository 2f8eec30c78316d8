"""``voicecore serve`` exactly as the command runs it, plus an event-loop lag ticker.

The fuzz harness starts the server through this script so that what it measures is the real
command (``cli.main()`` with no argv: same signal handling, same settings, same logging) while
a ticker task inside the server's own event loop records every late wake-up. Each wake-up later
than ``VOICECORE_FUZZ_LAG_REPORT_MS`` appends one line ``<wall lag ms> <loop thread cpu ms>``
to the file named by ``VOICECORE_FUZZ_LAG_FILE``: the CPU figure tells a loop busy with work
(a stall) from a process the operating system merely did not schedule (a loaded machine).

Usage: ``python -m tests.fuzz.serve_with_ticker serve --host 127.0.0.1 --port N ...``
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import TextIO

import voicecore.server
from voicecore.cli import main
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

__all__: list[str] = []

TICK_SECONDS = 0.005


async def _tick(out: TextIO, report_ms: float) -> None:
    """Sleep one tick at a time; write a line whenever a wake-up comes ``report_ms`` late."""
    while True:
        wall, cpu = time.perf_counter(), time.thread_time()
        await asyncio.sleep(TICK_SECONDS)
        lag_ms = (time.perf_counter() - wall - TICK_SECONDS) * 1000
        if lag_ms >= report_ms:
            cpu_ms = (time.thread_time() - cpu) * 1000
            out.write(f"{lag_ms:.1f} {cpu_ms:.1f}\n")
            out.flush()


def _with_ticker(out: TextIO, report_ms: float) -> None:
    """Replace ``voicecore.server.serve`` (which the CLI imports when it runs) by one that runs
    the ticker next to the real thing."""
    serve = voicecore.server.serve

    async def serve_and_tick(settings: Settings, service: VoiceCoreService | None = None) -> None:
        ticker = asyncio.create_task(_tick(out, report_ms))
        try:
            await serve(settings, service)
        finally:
            ticker.cancel()

    voicecore.server.serve = serve_and_tick


if __name__ == "__main__":
    with open(os.environ["VOICECORE_FUZZ_LAG_FILE"], "a", encoding="ascii") as lag_file:
        _with_ticker(lag_file, float(os.environ.get("VOICECORE_FUZZ_LAG_REPORT_MS", "20")))
        sys.exit(main())
