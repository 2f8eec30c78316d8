"""The store ``Settings`` name: in memory, or Redis (opened, checked and its script loaded)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from redis.exceptions import RedisError

from voicecore._in_memory import in_memory_store
from voicecore.config import Settings
from voicecore.stores._redis import RedisStore
from voicecore.stores._seam import Store, StoreOpenError, StoreUnavailableError

__all__ = ["open_store", "shown_url"]


async def open_store(settings: Settings) -> Store:
    """The store of ``settings.store``; ``StoreOpenError`` says in one line why it cannot be
    used (the URL as shown carries no password)."""
    if settings.store == "memory":
        return in_memory_store(settings)
    password = settings.store_password
    try:
        return await RedisStore.open(
            settings.store,
            password=password.get_secret_value() if password is not None else None,
            timeout=settings.store_timeout,
            prefix=settings.store_prefix,
            capture_ttl=settings.capture_ttl,
            idempotency_ttl=settings.idempotency_ttl,
            retention=settings.event_retention,
        )
    except (RedisError, StoreUnavailableError, OSError, ValueError) as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise StoreOpenError(
            f"cannot use the store {shown_url(settings.store)}: {reason} "
            "(check --store and VOICECORE_STORE_PASSWORD)"
        ) from None


def shown_url(url: str) -> str:
    """``url`` without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))
