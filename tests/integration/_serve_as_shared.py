"""``voicecore serve`` exactly as the command runs it, with a stand-in for a shared store.

``--workers`` above 1 needs a store every worker shares (``Settings.store_is_shared``); the
in-memory store, the only one so far, is not, so the real command refuses. This script runs the
real command (``cli.main()``: flags, environment, logging, the supervisor, the exit status) with
``Settings`` replaced by a subclass that says its store is shared. Each worker then holds its own
in-memory state, which is all that the tests of the supervisor need: ports, pids, signals,
exit statuses.

With ``STANDIN_WORKER_RAISES`` set, each worker raises instead of serving: how a worker that
fails unexpectedly is reported.

Usage: ``python -m tests.integration._serve_as_shared serve --workers N ...``
"""

from __future__ import annotations

import os
import sys

import voicecore.cli
from voicecore.cli import main
from voicecore.config import Settings

__all__: list[str] = []


class _SharedStoreStandIn(Settings):
    """Settings whose store every worker would share."""

    @property
    def store_is_shared(self) -> bool:
        return True


def _raise(settings: Settings) -> int:
    raise RuntimeError("a worker fails")


if __name__ == "__main__":
    voicecore.cli.Settings = _SharedStoreStandIn  # type: ignore[attr-defined]
    if os.environ.get("STANDIN_WORKER_RAISES"):
        voicecore.cli._serve_one = _raise
    sys.exit(main())
