"""A TTL cache that says what it drops by itself: entries that expired, and entries evicted.

cachetools' ``TTLCache`` forgets an expired entry lazily, on its next write (or when room is
needed), and evicts the least recently used entry to stay within its bound. Neither is a delete
anybody asked for: for the capture store, each is a capture held between turns (a value waiting
for its confirmation, or a partial one) that the caller will find gone. ``ReportingTTLCache``
tells each listener of ``on_lost`` about each one, with why (``expired``, ``evicted``), which the
server counts (``voicecore._metrics``). An entry expired but not yet forgotten is reported when
the cache forgets it, at its next write: a quiet store reports late, never wrongly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Literal, TypeAlias, TypeVar

from cachetools import TTLCache

__all__ = ["Lost", "LostListener", "ReportingTTLCache"]

Lost: TypeAlias = Literal["expired", "evicted", "unreadable"]
LostListener: TypeAlias = Callable[[Hashable, Lost], None]
"""Told the key of each entry the cache dropped by itself, and why (``unreadable``: a card
capture sealed with a key no longer listed, which ``voicecore._card_states`` drops)."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ReportingTTLCache(TTLCache[K, V, float]):
    """A ``TTLCache`` that tells ``on_lost``'s listeners of every entry it drops by itself."""

    def __init__(
        self,
        maxsize: float,
        ttl: float,
        timer: Callable[[], float],
        getsizeof: Callable[[V], float],
        on_lost: list[LostListener],
    ) -> None:
        super().__init__(maxsize, ttl, timer, getsizeof)
        self.on_lost = on_lost

    def expire(self, time: float | None = None) -> list[tuple[K, V]]:
        """Forget the expired entries (``TTLCache`` calls it before every write)."""
        expired = super().expire(time)
        for key, _ in expired:
            self._tell(key, "expired")
        return expired

    def popitem(self) -> tuple[K, V]:
        """Evict the least recently used entry (``Cache`` calls it when it needs room)."""
        key, value = super().popitem()
        self._tell(key, "evicted")
        return key, value

    def _tell(self, key: K, why: Lost) -> None:
        for listener in self.on_lost:
            listener(key, why)
