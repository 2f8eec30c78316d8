"""A server's ``--log-json`` output, read while it runs: which process did what.

Each line loguru writes with ``serialize=True`` is one JSON object whose ``record`` holds the
message, the extras (``trace_id``, ``worker``, ...) and the writing process's id. Tests read
it to tell which worker or replica served a call, without putting a pid on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ServerLog"]


class ServerLog:
    """The JSON log lines a server has written so far to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> Iterator[dict[str, Any]]:
        """Every whole line's ``record``, oldest first (a line still being written is skipped)."""
        text = self.path.read_text() if self.path.exists() else ""
        for line in text[: text.rfind("\n") + 1].splitlines():
            record: dict[str, Any] = json.loads(line)["record"]
            yield record

    def saying(self, message: str, **extra: object) -> list[dict[str, Any]]:
        """The records with this message whose extras include ``extra``."""
        return [
            record
            for record in self.records()
            if record["message"] == message
            and all(record["extra"].get(key) == value for key, value in extra.items())
        ]

    def pids_saying(self, message: str, **extra: object) -> set[int]:
        """The ids of the processes that logged ``message`` (with ``extra``)."""
        return {record["process"]["id"] for record in self.saying(message, **extra)}
