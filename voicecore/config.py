"""Server settings from flags and ``VOICECORE_*`` environment variables.

Precedence: a command-line flag, then the environment variable, then the default.
"""

from __future__ import annotations

import ipaddress
import math
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from voicecore._auth import load_tokens
from voicecore._card_keys import parse_card_keys

__all__ = ["Settings", "is_loopback"]

_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``: ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return False


class Settings(BaseSettings):
    """Everything a voicecore server can be told; frozen once built."""

    # hide_input_in_errors: a bad VOICECORE_CARD_KEY or store password must not be echoed into
    # a traceback; each field's message still names the field and what it should be.
    model_config = SettingsConfigDict(
        env_prefix="VOICECORE_",
        frozen=True,
        extra="forbid",
        validate_default=True,
        hide_input_in_errors=True,
    )

    host: str = Field(
        default="127.0.0.1",
        description="address to bind; another than loopback (0.0.0.0 in a container) needs "
        "`insecure` until authentication is configured",
    )
    insecure: bool = Field(
        default=False,
        description="allow serving a non-loopback address without authentication (a WARNING "
        "at start says what is exposed)",
    )
    port: int = Field(default=50051, ge=0, le=65535, description="TCP port; 0 picks a free one")
    tls_cert: FilePath | None = Field(
        default=None,
        description="PEM certificate chain: serve TLS (with tls_key); reread on SIGHUP",
    )
    tls_key: FilePath | None = Field(
        default=None, description="PEM private key of tls_cert; reread on SIGHUP"
    )
    tls_client_ca: FilePath | None = Field(
        default=None,
        description="PEM CA bundle: require client certificates it signed (mTLS; needs tls_cert)",
    )
    default_timeout: float = Field(
        default=30.0, gt=0, le=3600, description="seconds a call may run when it sets no timeout"
    )
    max_timeout: float = Field(
        default=600.0, gt=0, description="larger timeout_seconds are INVALID_PARAMS"
    )
    log_level: str = Field(default="INFO", description="loguru level for the server's logs")
    log_json: bool = Field(default=False, description="one JSON object per log line")
    debug_primitives: bool = Field(
        default=False, description="also serve debug_echo, debug_sleep and debug_flaky"
    )
    event_retention: int = Field(
        default=100_000, ge=1, description="events kept in memory for replay"
    )
    event_retention_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        description="estimated bytes of events kept for replay; the oldest go first",
    )
    max_message_bytes: int = Field(
        # Not gRPC's usual 4 MiB: a turn's params are tens of KB, and parsing 4 MiB of Struct
        # entries holds the event loop for about 0.4 s before any check can refuse them.
        default=256 * 1024,
        ge=1024,
        description="larger requests are RESOURCE_EXHAUSTED",
    )
    max_concurrent_calls: int = Field(
        default=1000, ge=1, description="calls in flight beyond this are RESOURCE_EXHAUSTED"
    )
    max_event_streams: int = Field(
        default=1000, ge=1, description="StreamEvents beyond this are RESOURCE_EXHAUSTED"
    )
    grace_period: float = Field(
        default=10.0, ge=0, description="seconds in-flight calls get to finish on shutdown"
    )
    retry_attempts: int = Field(
        default=3, ge=1, le=10, description="tries of a primitive that fails transiently"
    )
    # Waits between those tries: initial * 2**(try - 1) plus up to jitter, at most max.
    retry_backoff_initial: float = Field(
        default=0.02,
        gt=0,
        allow_inf_nan=False,
        description="seconds waited before the first retry of a transient failure, doubling",
    )
    retry_backoff_max: float = Field(
        default=0.5, gt=0, allow_inf_nan=False, description="longest wait between retries"
    )
    retry_backoff_jitter: float = Field(
        default=0.02,
        ge=0,
        allow_inf_nan=False,
        description="random seconds (0 to this) added to each wait, so retries spread out",
    )
    idempotency_ttl: float = Field(
        default=600.0, gt=0, description="seconds a recorded response answers a repeated key"
    )
    idempotency_max_entries: int = Field(
        default=100_000, ge=1, description="recorded responses kept at most"
    )
    idempotency_max_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=1024 * 1024,
        description="bytes of recorded (encoded) responses kept at most",
    )
    capture_max_entries: int = Field(
        default=100_000, ge=1, description="captures held between turns at most"
    )
    capture_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        description="estimated bytes of capture state held between turns at most",
    )
    capture_ttl: float = Field(
        default=3600.0, gt=0, description="seconds a capture is kept after its last turn"
    )
    # One client must not lock everyone out (HTTP/2 streams, slow requests, floods).
    max_connections: int = Field(
        default=2000,
        ge=1,
        description="client connections held at once; more are closed as they open (GOAWAY)",
    )
    max_streams_per_connection: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: streams one connection may open",
    )
    max_calls_per_connection: int = Field(
        default=100,
        ge=1,
        description="calls of one kind in flight from one connection (never over half the "
        "server's limit); beyond it RESOURCE_EXHAUSTED",
    )
    request_arrival_timeout: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="seconds a request has, after its headers, to arrive whole; then "
        "UNAVAILABLE (retryable)",
    )
    flood_window: float = Field(
        default=10.0, gt=0, le=3600, description="seconds over which HTTP/2 frames are counted"
    )
    flood_max_resets: int = Field(
        default=200,
        ge=1,
        description="streams a connection may reset per window beyond those it completed; "
        "beyond it GOAWAY ENHANCE_YOUR_CALM",
    )
    flood_max_control_frames: int = Field(
        default=1000,
        ge=1,
        description="SETTINGS, PING, PRIORITY, WINDOW_UPDATE, empty DATA and unknown frames a "
        "connection may send per window (plus one per completed stream and per 16 KiB "
        "answered); beyond it GOAWAY ENHANCE_YOUR_CALM",
    )
    # Switches for the fast paths, so an upgrade of betterproto2 or grpclib that breaks one
    # can be run without it, and benchmarks can measure what each buys.
    codec: Literal["upb", "betterproto2"] = Field(
        default="upb",
        description="how messages are parsed and serialised: upb (the protobuf C parser, about "
        "ten times faster) or betterproto2's pure-Python code (a fallback, with the same limits, "
        "the cap on Struct values per request included)",
    )
    coalesce_writes: bool = Field(
        default=True,
        description="gather a connection's HTTP/2 output per event-loop turn into one socket "
        "write; false writes each frame at once",
    )
    auth_tokens_file: Path | None = Field(
        default=None,
        description="file of accepted bearer tokens (their SHA-256, tenant and scopes; "
        "'voicecore token' makes entries); unset: no authentication",
    )
    auth_open_health: bool = Field(
        default=True, description="with auth on, the standard health service needs no token"
    )
    auth_open_reflection: bool = Field(
        default=False, description="with auth on, server reflection needs no token"
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="processes serving the one port (SO_REUSEPORT); more than 1 needs a "
        "store every process shares",
    )
    file_watch_interval: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="seconds between looks at tls_cert, tls_key and auth_tokens_file; one that "
        "changed is reloaded as on SIGHUP; 0: only SIGHUP reloads",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="serve Prometheus metrics over plain HTTP at /metrics on this port (worker "
        "i of --workers on this port + i); 0: off",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="address of the metrics port (0.0.0.0 for a scraper in another pod)",
    )
    access_log: bool = Field(
        default=True, description="one INFO line per call (method, state or code, duration)"
    )
    store: str = Field(
        default="memory",
        description="where captures, idempotency records and events live: memory (this "
        "process) or a Redis URL (redis://host:6379/0, rediss:// for TLS) shared by replicas",
    )
    store_prefix: str = Field(
        default="vc",
        min_length=1,
        pattern=r"^[^{}\s]+$",
        description="prefix of every Redis key: one deployment per prefix",
    )
    store_password: SecretStr | None = Field(
        default=None, description="Redis password, if not in the store URL"
    )
    store_timeout: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="seconds a Redis command may take before the call answers UNAVAILABLE",
    )
    card_key: SecretStr | None = Field(
        default=None,
        description="base64 of 32 random bytes: the key capture_card seals card data with; or "
        "keys with ids for rotation, <id>:<base64> separated by commas (the first seals, every "
        "one opens); required (the same on every replica) with a shared store, else a random "
        "key per process",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_is_known(cls, value: object) -> object:
        if isinstance(value, str) and value.upper() in _LOG_LEVELS:
            return value.upper()
        raise ValueError(f"log_level should be one of {', '.join(_LOG_LEVELS)}")

    @field_validator(
        "default_timeout",
        "max_timeout",
        "grace_period",
        "idempotency_ttl",
        "capture_ttl",
        "request_arrival_timeout",
        "flood_window",
        "file_watch_interval",
        "store_timeout",
    )
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("should be a finite number of seconds")
        return value

    @field_validator("store")
    @classmethod
    def _store_is_memory_or_redis(cls, value: str) -> str:
        if value == "memory" or value.startswith(("redis://", "rediss://", "unix://")):
            return value
        raise ValueError("store should be memory or a redis://, rediss:// or unix:// URL")

    @field_validator("auth_tokens_file")
    @classmethod
    def _tokens_file_parses(cls, value: Path | None) -> Path | None:
        if value is not None:
            load_tokens(value)  # a malformed line fails at start-up, not at the first call
        return value

    @property
    def authenticates(self) -> bool:
        """Whether callers must prove who they are: a tokens file, or client certificates."""
        return self.auth_tokens_file is not None or self.tls_client_ca is not None

    @property
    def store_is_shared(self) -> bool:
        """Whether every process sees the same held captures, idempotency records and events.

        False for the in-memory store; a Redis store is shared by every process that uses it.
        """
        return self.store != "memory"

    @model_validator(mode="after")
    def _workers_share_a_store(self) -> Settings:
        if self.workers > 1 and not self.store_is_shared:
            raise ValueError(
                f"workers={self.workers} needs a store every worker shares: with the in-memory "
                "store each worker would hold its own captures, idempotency records and events "
                "(serve with 1 worker)"
            )
        return self

    @field_validator("card_key")
    @classmethod
    def _card_keys_are_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_card_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _exposed_only_when_told(self) -> Settings:
        if not self.insecure and not self.authenticates and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host} is reachable from other machines and nothing authenticates "
                "callers: bind 127.0.0.1, require tokens (--auth-tokens-file) or client "
                "certificates (--tls-client-ca), or set insecure (--insecure, "
                "VOICECORE_INSECURE=true) to serve it anyway"
            )
        return self

    @model_validator(mode="after")
    def _metrics_ports_fit(self) -> Settings:
        if self.metrics_port and self.metrics_port + self.workers - 1 > 65535:
            raise ValueError("metrics_port + workers - 1 (one metrics port per worker) > 65535")
        return self

    @model_validator(mode="after")
    def _default_within_max(self) -> Settings:
        if self.default_timeout > self.max_timeout:
            raise ValueError("default_timeout should not exceed max_timeout")
        return self

    @model_validator(mode="after")
    def _tls_files_together(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca needs tls_cert and tls_key (mTLS is TLS first)")
        return self

    @model_validator(mode="after")
    def _backoff_max_not_below_initial(self) -> Settings:
        if self.retry_backoff_max < self.retry_backoff_initial:
            raise ValueError("retry_backoff_max should not be below retry_backoff_initial")
        return self
