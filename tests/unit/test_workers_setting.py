"""The ``workers`` setting: more than one needs a store every worker shares.

The supervisor itself forks, so it is tested as the real command, in
``tests/integration/test_workers.py``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from voicecore.config import Settings


class _SharedStoreStandIn(Settings):
    @property
    def store_is_shared(self) -> bool:
        return True


class TestWorkersSetting:
    def test_one_worker_by_default_on_the_in_memory_store(self) -> None:
        """One worker, and the in-memory store is not shared."""
        settings = Settings()
        assert (settings.workers, settings.store_is_shared) == (1, False)

    def test_in_memory_store_refuses_more_workers(self) -> None:
        """workers=2 with the in-memory store: refused, saying why."""
        with pytest.raises(ValidationError, match="workers=2 needs a store every worker shares"):
            Settings(workers=2)

    def test_shared_store_takes_more_workers(self) -> None:
        """A store every worker shares: any number of workers up to 256."""
        assert _SharedStoreStandIn(workers=256).workers == 256

    @pytest.mark.parametrize("workers", [0, 257])
    def test_out_of_range(self, workers: int) -> None:
        """No workers, or more than 256: refused whatever the store."""
        with pytest.raises(ValidationError, match="workers"):
            _SharedStoreStandIn(workers=workers)


class TestStopsWithParent:
    def test_a_gone_parent_is_noticed(self) -> None:
        """A worker whose parent is not the one that forked it (it died) does not serve."""
        code = (
            "import sys; from voicecore._workers import _stops_with; "
            "sys.exit(0 if _stops_with(-1) is False else 3)"
        )
        assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
