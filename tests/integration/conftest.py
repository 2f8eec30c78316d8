"""Fixtures every integration module may take: ``redis``, a private redis-server per test
(``tests._redis``). A module that wants one server for all its tests overrides it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._redis import RedisServer, running_redis

__all__ = ["redis"]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, stopped after it."""
    with running_redis(tmp_path) as server:
        yield server
