"""Client settings, from arguments or ``VOICE_CORE_*`` environment variables.

The variables are ``VOICE_CORE_ENDPOINT``, ``VOICE_CORE_USE_GRPC``, ``VOICE_CORE_TIMEOUT``,
``VOICE_CORE_TLS``, ``VOICE_CORE_TLS_CA``, ``VOICE_CORE_TLS_CERT``, ``VOICE_CORE_TLS_KEY``,
``VOICE_CORE_AUTH_TOKEN`` and ``VOICE_CORE_ALLOW_INSECURE_TOKEN``. They are the orchestration
side's names, so they differ from the server's ``VOICECORE_*``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from voicecore.client._breaker import BreakerConfig
from voicecore.client._retry import RetryPolicy

__all__ = ["ClientConfig", "StreamPolicy", "parse_endpoint"]

_ENV_FIELDS = {
    "VOICE_CORE_ENDPOINT": "endpoint",
    "VOICE_CORE_USE_GRPC": "use_grpc",
    "VOICE_CORE_TIMEOUT": "timeout",
    "VOICE_CORE_TLS": "tls",
    "VOICE_CORE_TLS_CA": "tls_ca",
    "VOICE_CORE_TLS_CERT": "tls_cert",
    "VOICE_CORE_TLS_KEY": "tls_key",
    "VOICE_CORE_AUTH_TOKEN": "auth_token",
    "VOICE_CORE_ALLOW_INSECURE_TOKEN": "allow_insecure_token",
}
_TLS_FILES = ("tls_ca", "tls_cert", "tls_key")


class StreamPolicy(BaseModel):
    """How ``stream_events`` reconnects: consecutive failed tries allowed, and their backoff."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_reconnects: int = Field(default=8, ge=0, le=100)
    initial_backoff: float = Field(default=0.2, gt=0)
    max_backoff: float = Field(default=5.0, gt=0)


class ClientConfig(BaseModel):
    """Everything a Voice Core client can be told; frozen once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str = "localhost:50051"
    #: False: run Voice Core in this process (``InProcessClient``), no network.
    use_grpc: bool = True
    #: Default deadline of every call, in seconds.
    timeout: float = Field(default=30.0, gt=0)
    #: Set by any of ``tls_ca``, ``tls_cert``, ``tls_key``.
    tls: bool = False
    #: PEM bundle of the CAs that may sign the server's certificate (default: the system's).
    tls_ca: Path | None = None
    #: PEM client certificate and its key, for a server that requires mTLS; both or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: Sent as ``authorization: Bearer <token>`` metadata on every call.
    auth_token: SecretStr | None = None
    #: Send ``auth_token`` over plaintext to a target that is not loopback (anyone on the path
    #: can read it); refused otherwise.
    allow_insecure_token: bool = False
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerConfig = BreakerConfig()
    stream: StreamPolicy = StreamPolicy()

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_host_port(cls, value: str) -> str:
        parse_endpoint(value)
        return value

    @field_validator("timeout")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError('"timeout" should be a finite number of seconds')
        return value

    @model_validator(mode="before")
    @classmethod
    def _tls_files_imply_tls(cls, data: Any) -> Any:
        if isinstance(data, dict) and "tls" not in data and any(data.get(f) for f in _TLS_FILES):
            return {**data, "tls": True}
        return data

    @model_validator(mode="after")
    def _tls_files_coherent(self) -> ClientConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError('"tls_cert" and "tls_key" should be given together (mTLS) or neither')
        if not self.tls and any(getattr(self, name) is not None for name in _TLS_FILES):
            raise ValueError('"tls" is false but "tls_ca", "tls_cert" or "tls_key" is set')
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientConfig:
        """Settings from ``VOICE_CORE_*`` variables (``os.environ`` by default); unset: defaults.

        Raises ``pydantic.ValidationError`` naming the field when a value does not parse.
        """
        source = os.environ if env is None else env
        values = {field: source[name] for name, field in _ENV_FIELDS.items() if source.get(name)}
        return cls.model_validate(values)


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` or ``[v6-address]:port`` as ``(host, port)``; raises ``ValueError``."""
    host, sep, port_text = endpoint.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f'endpoint should be "host:port", got {endpoint!r}')
    return host, int(port_text)
