"""FileWatcher: a group's reload runs when one of its files changes on disk, and only then."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from tests._waiting import until
from voicecore._file_watch import FileWatcher, file_signature


@pytest.fixture
def errors() -> Iterator[list[dict[str, Any]]]:
    """The ERROR records logged while the test runs, with their extra fields."""
    found: list[dict[str, Any]] = []
    logger.enable("voicecore")
    sink = logger.add(
        lambda message: found.append(
            {"message": message.record["message"], **message.record["extra"]}
        ),
        level="ERROR",
    )
    yield found
    logger.remove(sink)
    logger.disable("voicecore")


def files(tmp_path: Path, *names: str) -> list[Path]:
    paths = [tmp_path / name for name in names]
    for path in paths:
        path.write_text(f"{path.name} v1\n")
    return paths


def counting(watcher: FileWatcher, paths: list[Path]) -> list[int]:
    """Watch ``paths`` with a reload that counts its runs (the list's length)."""
    runs: list[int] = []
    watcher.watch(paths, lambda: runs.append(1))
    return runs


class TestSignature:
    def test_missing_file_has_none(self, tmp_path: Path) -> None:
        assert file_signature(tmp_path / "nope") is None

    def test_same_size_new_time_differs(self, tmp_path: Path) -> None:
        (path,) = files(tmp_path, "cert.pem")
        before = file_signature(path)
        os.utime(path, ns=(0, 1_000_000_000))
        assert file_signature(path) != before


class TestCheck:
    def test_unchanged_files_are_not_reloaded(self, tmp_path: Path) -> None:
        watcher = FileWatcher(5.0)
        runs = counting(watcher, files(tmp_path, "cert.pem", "key.pem"))
        watcher.check()
        watcher.check()
        assert runs == []

    @pytest.mark.parametrize("change", ["rewritten", "replaced", "removed"])
    def test_a_changed_file_reloads_its_group_once(self, tmp_path: Path, change: str) -> None:
        watcher = FileWatcher(5.0)
        cert, key = files(tmp_path, "cert.pem", "key.pem")
        (tokens,) = files(tmp_path, "tokens")
        tls_runs = counting(watcher, [cert, key])
        token_runs = counting(watcher, [tokens])
        if change == "rewritten":
            key.write_text("a longer key, version 2\n")
        elif change == "replaced":  # a new file renamed over the old: same size, new inode
            (tmp_path / "key.new").write_text(key.read_text())
            os.replace(tmp_path / "key.new", key)
        else:
            key.unlink()
        watcher.check()
        assert tls_runs == []  # changed: reloaded once the next look finds it the same
        watcher.check()
        watcher.check()  # seen now: not reloaded again
        assert (tls_runs, token_runs) == ([1], [])

    def test_a_file_still_being_written_is_not_reloaded(self, tmp_path: Path) -> None:
        """Truncated on one look, written on the next: no reload of the empty file; the
        written one is reloaded when a look finds it as the one before did."""
        watcher = FileWatcher(5.0)
        (tokens,) = files(tmp_path, "tokens")
        loaded: list[str] = []
        watcher.watch([tokens], lambda: loaded.append(tokens.read_text()))
        tokens.write_text("")  # what an editor or `>` does first
        watcher.check()
        tokens.write_text("tokens v2, written\n")
        watcher.check()
        assert loaded == []
        watcher.check()
        assert loaded == ["tokens v2, written\n"]

    def test_a_change_undone_before_it_held_is_not_reloaded(self, tmp_path: Path) -> None:
        watcher = FileWatcher(5.0)
        (tokens,) = files(tmp_path, "tokens")
        runs = counting(watcher, [tokens])
        before = tokens.stat()
        tokens.write_text("a half-written line\n")
        watcher.check()
        tokens.write_text("tokens v1\n")
        os.utime(tokens, ns=(before.st_atime_ns, before.st_mtime_ns))
        watcher.check()
        watcher.check()
        assert runs == []

    def test_a_failing_reload_is_logged_and_the_others_run(
        self, tmp_path: Path, errors: list[dict[str, Any]]
    ) -> None:
        watcher = FileWatcher(5.0)
        cert, tokens = files(tmp_path, "cert.pem", "tokens")

        def failing() -> None:
            raise RuntimeError("cannot read")

        watcher.watch([cert], failing)
        runs = counting(watcher, [tokens])
        cert.write_text("changed, longer\n")
        tokens.write_text("changed, longer\n")
        watcher.check()
        watcher.check()
        assert runs == [1]
        assert [(e["message"], e["files"]) for e in errors] == [("reload failed", [str(cert)])]


class TestPolling:
    async def test_a_change_is_picked_up_without_a_call(self, tmp_path: Path) -> None:
        watcher = FileWatcher(0.01)
        (tokens,) = files(tmp_path, "tokens")
        runs = counting(watcher, [tokens])
        watcher.start()
        try:
            assert watcher.polling
            tokens.write_text("a new token line\n")
            await until(lambda: runs == [1])
        finally:
            await watcher.stop()
        assert not watcher.polling

    @pytest.mark.parametrize("interval", [0.0, 0.01])
    async def test_nothing_polls_when_off_or_nothing_is_watched(
        self, tmp_path: Path, interval: float
    ) -> None:
        watcher = FileWatcher(interval)
        if interval == 0:
            counting(watcher, files(tmp_path, "tokens"))
        watcher.start()
        assert not watcher.polling
        await watcher.stop()  # stopping what never started is fine
