"""The store ``Settings`` name: in memory, or Redis (opened, checked and its script loaded)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
    """``url`` without its password (in the user part or the query), fit for a log line."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user = f"{parts.username}:***@" if parts.username else ":***@"
            netloc = user + netloc.rsplit("@", 1)[1]
        query = [
            (name, "***" if name.lower() == "password" else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        shown = parts._replace(netloc=netloc, query=urlencode(query, safe="*"))
    except ValueError:  # e.g. an unclosed [ in the host: say nothing of it
        return "<unparseable URL>"
    return urlunsplit(shown) if shown != parts else url
