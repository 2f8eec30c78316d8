"""The fuzzer's own encoders: what it sends is what its reproducers say it sends.

Pure code, quick: these run in the default test session so that ``nox -s fuzz`` (which is not
one) cannot drift into sending something else than its reproducers print.
"""

from __future__ import annotations

import struct

import hpack

from tests.fuzz._grpc_inputs import EXECUTE, GrpcInput, ManyKeys, Nested, Repeated, Request
from tests.fuzz._h2_inputs import HEADERS, NEW_STREAM, RST_STREAM, SAME_STREAM, Frame, H2Input
from tests.fuzz._h2_inputs import _Reader as ServerFrames
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest

__all__: list[str] = []


def _parsed(request: Request) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest.parse(request.encode())


class TestGrpcRecipes:
    """Compact recipes encode to the messages they name."""

    def test_many_keys_are_null_params(self) -> None:
        """ManyKeys(3) is params {k0, k1, k2: null}, appended after the other fields."""
        request = _parsed(Request("debug_echo", ManyKeys(3), trace_id=Repeated("ab", 2)))
        assert request.params is not None
        assert request.params.to_dict() == {"k0": None, "k1": None, "k2": None}
        assert request.trace_id == "abab"

    def test_nested_is_lists_in_lists(self) -> None:
        """Nested(3) is params {"k": [[[null]]]}."""
        request = _parsed(Request("debug_echo", Nested(3)))
        assert request.params is not None
        assert request.params.to_dict() == {"k": [[[None]]]}

    def test_prefix_declares_the_drawn_length(self) -> None:
        """length_delta lies in the prefix by that much; None sends no prefix at all."""
        message = b"\x0a\x01a"
        lying = GrpcInput(path=EXECUTE, message=message, compressed=1, length_delta=5).body()
        assert lying == struct.pack(">BI", 1, len(message) + 5) + message
        assert GrpcInput(path=EXECUTE, message=message, length_delta=None).body() == message

    def test_metadata_validity(self) -> None:
        """Printable ASCII metadata and a valid grpc-timeout are valid; other grpc- keys not."""
        valid = GrpcInput(path=EXECUTE, message=b"", metadata=(("grpc-timeout", "5S"),))
        odd = GrpcInput(path=EXECUTE, message=b"", metadata=(("grpc-encoding", "gzip"),))
        assert valid.metadata_is_valid()
        assert not odd.metadata_is_valid()
        assert not GrpcInput(
            path=EXECUTE, message=b"", metadata=(("trace-id", "é"),)
        ).metadata_is_valid()


class TestH2Frames:
    """Frames are written as drawn, lies included."""

    def test_new_streams_are_fresh_odd_ids(self) -> None:
        """NEW_STREAM takes the next odd id on each repeat; SAME_STREAM reuses it."""
        rapid_reset = (
            Frame(HEADERS, 4, NEW_STREAM, b""),
            Frame(RST_STREAM, 0, SAME_STREAM, b"\x00\x00\x00\x08"),
        )
        sent = H2Input(frames=rapid_reset, repeat=2, preface=False).encode()
        stream_ids = [int.from_bytes(sent[i + 5 : i + 9], "big") for i in (0, 9, 22, 31)]
        assert stream_ids == [1, 1, 3, 3]

    def test_length_field_lies(self) -> None:
        """length_delta changes the declared length, not the payload."""
        sent = Frame(0, 0, 1, b"abc", length_delta=4).encode(1)
        assert int.from_bytes(sent[:3], "big") == 7
        assert sent[9:] == b"abc"

    def test_internal_in_trailers_is_seen(self) -> None:
        """A server HEADERS frame carrying grpc-status 13 marks the outcome internal."""
        block = hpack.Encoder().encode([(b"grpc-status", b"13")])
        frames = ServerFrames()
        frames.feed(Frame(HEADERS, 0x5, 1, block).encode(1))
        assert frames.outcome.grpc_statuses == [13]
        assert frames.outcome.internal
