"""Case tables: what a caller says and what should come of it, one test per row.

``@cases("text, expected", CALLER_CASES)`` parametrizes a test like ``pytest.mark.parametrize``,
but names each case by what goes in (every column but the last, the expectation), so a failure
reads ``test_reads_the_address[john dot smith at gmail dot com]`` rather than a pile of
values joined by dashes. A table of single utterances is named by the utterance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

__all__ = ["case_id", "cases"]

SILENCE = "<silence>"


def _shown(value: object) -> str:
    if isinstance(value, str):
        return value or SILENCE
    return repr(value)


def case_id(row: object) -> str:
    """A row's test id: its inputs as said, `` / ``-separated; ``<silence>`` for ``""``."""
    if not isinstance(row, tuple):
        return _shown(row)
    inputs = row[:-1] if len(row) > 1 else row
    return " / ".join(_shown(value) for value in inputs)


def cases(names: str | Sequence[str], table: Iterable[object]) -> pytest.MarkDecorator:
    """``pytest.mark.parametrize(names, table)`` with each row named by ``case_id``."""
    rows = list(table)
    return pytest.mark.parametrize(names, rows, ids=[case_id(row) for row in rows])
