"""Reload files when they change on disk, without a SIGHUP: a cheap poll of their metadata.

Every ``interval`` seconds each watched group of files (the TLS certificate and key; the tokens
file) is ``stat``-ed; when any file's modification time, size, inode or device differs from the
last look, the group's reload runs: the same in-place reload SIGHUP runs, which keeps what it
had (and logs an ERROR) when the new files are bad. ``stat`` follows symbolic links, so a
Kubernetes secret volume, which swaps a link to a new folder, counts as a change too.

A change is acted on once it holds still: only when a look finds the same new signatures
as the look before. A file caught mid-write (truncated by an editor or a ``>`` redirection,
not yet written) is thus not loaded; a reload comes one interval after the last write. A
rotation that writes the certificate and the key more than an interval apart may still be
seen half done: that reload fails and keeps the old pair, and a later look, which sees the
second file changed, loads the new pair. A file that stays broken is reported once, not on
every look.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

__all__ = ["FileWatcher", "file_signature"]

#: What tells a file changed: (modification time in ns, size, inode, device); None: unreadable.
Signature = tuple[int, int, int, int] | None


def file_signature(path: Path) -> Signature:
    """``path``'s modification time, size, inode and device, or None if it cannot be read."""
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino, status.st_dev)


@dataclass
class _Watch:
    paths: tuple[Path, ...]
    reload: Callable[[], object]
    seen: tuple[Signature, ...]
    #: Signatures that differ from ``seen``, found by the last look: reloaded if they hold.
    changing: tuple[Signature, ...] | None = None


class FileWatcher:
    """Polls groups of files every ``interval`` seconds and runs a group's reload when one of
    its files changed and then held still for a look; ``interval`` 0 never polls."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._watches: list[_Watch] = []
        self._task: asyncio.Task[None] | None = None

    def watch(self, paths: Sequence[Path], reload: Callable[[], object]) -> None:
        """Run ``reload`` whenever one of ``paths`` changes from how it is now (and holds)."""
        paths = tuple(paths)
        self._watches.append(_Watch(paths, reload, tuple(map(file_signature, paths))))

    def check(self) -> None:
        """Look once: run the reload of every group whose files changed and have stayed as
        the previous look found them (one that raises is logged and does not stop the
        others)."""
        for watch in self._watches:
            now = tuple(map(file_signature, watch.paths))
            if now == watch.seen:
                watch.changing = None
                continue
            if now != watch.changing:
                watch.changing = now  # still being written, perhaps: look again first
                continue
            watch.seen, watch.changing = now, None
            logger.info("watched file changed; reloading", files=[str(p) for p in watch.paths])
            try:
                watch.reload()
            except Exception:
                logger.exception("reload failed", files=[str(p) for p in watch.paths])

    @property
    def polling(self) -> bool:
        """Whether a poll task is running."""
        return self._task is not None

    def start(self) -> None:
        """Begin polling in a task of the running loop (nothing to watch, or interval 0: no)."""
        if self.interval > 0 and self._watches and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        """Stop polling."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.check()
