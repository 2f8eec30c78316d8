"""ClientConfig from arguments and VOICE_CORE_* variables; from_env picks the client kind."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voicecore.client import ClientConfig, InProcessClient, VoiceCoreClient
from voicecore.client._config import parse_endpoint


class TestFromEnv:
    """The documented variables, their defaults and their validation."""

    def test_defaults(self) -> None:
        """Nothing set: localhost:50051 over gRPC with a 30 s deadline."""
        config = ClientConfig.from_env({})
        assert (config.endpoint, config.use_grpc, config.timeout) == ("localhost:50051", True, 30)
        assert config.auth_token is None and not config.tls

    def test_every_variable(self) -> None:
        """Each variable lands in its field."""
        config = ClientConfig.from_env(
            {
                "VOICE_CORE_ENDPOINT": "voice-core.internal:6000",
                "VOICE_CORE_USE_GRPC": "false",
                "VOICE_CORE_TIMEOUT": "2.5",
                "VOICE_CORE_TLS": "true",
                "VOICE_CORE_AUTH_TOKEN": "s3cret",
            }
        )
        assert config.endpoint == "voice-core.internal:6000"
        assert not config.use_grpc
        assert config.timeout == 2.5
        assert config.tls
        assert config.auth_token is not None
        assert config.auth_token.get_secret_value() == "s3cret"
        assert "s3cret" not in repr(config)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("VOICE_CORE_TIMEOUT", "0"),
            ("VOICE_CORE_TIMEOUT", "inf"),
            ("VOICE_CORE_USE_GRPC", "maybe"),
            ("VOICE_CORE_ENDPOINT", "no-port"),
        ],
    )
    def test_invalid_refused(self, name: str, value: str) -> None:
        """A value that does not parse raises a validation error."""
        with pytest.raises(ValidationError):
            ClientConfig.from_env({name: value})

    def test_picks_grpc_or_in_process(self) -> None:
        """VOICE_CORE_USE_GRPC=false gives the in-process client, else the gRPC one."""
        assert isinstance(VoiceCoreClient.from_env({}), VoiceCoreClient)
        in_process = VoiceCoreClient.from_env({"VOICE_CORE_USE_GRPC": "0"})
        assert isinstance(in_process, InProcessClient)


class TestEndpoint:
    """host:port parsing."""

    @pytest.mark.parametrize(
        ("endpoint", "parsed"),
        [
            ("localhost:50051", ("localhost", 50051)),
            ("10.0.0.7:1", ("10.0.0.7", 1)),
            ("[::1]:50051", ("::1", 50051)),
        ],
    )
    def test_valid(self, endpoint: str, parsed: tuple[str, int]) -> None:
        """Names, IPv4 and bracketed IPv6 addresses parse."""
        assert parse_endpoint(endpoint) == parsed

    @pytest.mark.parametrize("endpoint", ["localhost", ":50051", "host:0", "host:70000", "host:x"])
    def test_invalid(self, endpoint: str) -> None:
        """Missing parts and impossible ports raise ValueError naming the format."""
        with pytest.raises(ValueError, match="host:port"):
            parse_endpoint(endpoint)

    def test_client_argument_overrides_config(self) -> None:
        """The endpoint argument of VoiceCoreClient wins over the config's."""
        client = VoiceCoreClient("127.0.0.1:7", config=ClientConfig(endpoint="other:8"))
        assert client.config.endpoint == "127.0.0.1:7"
        with pytest.raises(ValueError, match="host:port"):
            VoiceCoreClient("nonsense")
