"""Request headers checked before grpclib: each problem gets its HTTP and gRPC status."""

from __future__ import annotations

import pytest
from grpclib.const import Status
from grpclib.metadata import Deadline

from voicecore._headers import ARRIVAL_TOO_LATE, HeaderProblem, header_problem, refuse, restamped

GOOD = [("content-type", "application/grpc"), ("te", "trailers")]


class TestHeaderProblem:
    @pytest.mark.parametrize(
        "extra",
        [
            [],
            [("grpc-timeout", "12345678m")],
            [("x-data-bin", "AAEC")],
            [("x-data-bin", "AAE")],
        ],
    )
    def test_good_headers_pass(self, extra: list[tuple[str, str]]) -> None:
        """Well-formed gRPC headers have no problem (unpadded base64 included)."""
        assert header_problem(GOOD + extra) is None

    @pytest.mark.parametrize(
        ("headers", "http_status", "named"),
        [
            ([("te", "trailers")], 415, "content-type"),
            ([("content-type", "text/html"), ("te", "trailers")], 415, "content-type"),
            ([("content-type", "application/grpc+json"), ("te", "trailers")], 200, "content-type"),
            ([("content-type", "application/grpc")], 200, "te"),
            ([*GOOD, ("grpc-timeout", "123456789S")], 200, "grpc-timeout"),
            ([*GOOD, ("grpc-timeout", "10s")], 200, "grpc-timeout"),
            ([*GOOD, ("x-data-bin", "0")], 200, "x-data-bin"),
            ([*GOOD, ("x-data-bin", "\u00e9")], 200, "x-data-bin"),
        ],
    )
    def test_each_problem_is_named(
        self, headers: list[tuple[str, str]], http_status: int, named: str
    ) -> None:
        """Each problem is INVALID_ARGUMENT naming the header; non-gRPC types are HTTP 415."""
        problem = header_problem(headers)
        assert isinstance(problem, HeaderProblem)
        assert (problem.http_status, problem.status) == (http_status, Status.INVALID_ARGUMENT)
        assert named in problem.message


class TestRestamped:
    def test_the_time_left_replaces_the_timeout(self) -> None:
        """grpc-timeout becomes the deadline's time left, in milliseconds, once."""
        headers = [*GOOD, ("grpc-timeout", "5S")]
        fresh = restamped(headers, Deadline.from_timeout(5.0))
        assert fresh is not None
        timeouts = [value for key, value in fresh if key == "grpc-timeout"]
        assert len(timeouts) == 1 and timeouts[0].endswith("m")
        assert 4000 < int(timeouts[0][:-1]) <= 5000

    def test_no_deadline_leaves_the_headers(self) -> None:
        """Without a deadline the headers pass as they are."""
        assert restamped(GOOD, None) == GOOD

    def test_a_spent_deadline_is_none(self) -> None:
        """Under a millisecond left: no headers, the call is refused."""
        assert restamped(GOOD, Deadline.from_timeout(0.0)) is None
        assert restamped(GOOD, Deadline.from_timeout(-1.0)) is None


class _Stream:
    """What ``refuse`` uses of a grpclib server stream: headers, ``closable``, reset."""

    def __init__(self, *, closable: bool) -> None:
        self.closable = closable
        self.sent: list[tuple[list[tuple[str, str]], bool]] = []
        self.reset = False

    async def send_headers(self, headers: list[tuple[str, str]], end_stream: bool) -> None:
        self.sent.append((headers, end_stream))

    def reset_nowait(self) -> None:
        self.reset = True


class TestRefuse:
    @pytest.mark.parametrize("closable", [True, False])
    async def test_answers_with_headers_only_and_resets_an_open_stream(
        self, closable: bool
    ) -> None:
        """One headers frame ends the stream with the problem; a stream still open is reset."""
        stream = _Stream(closable=closable)
        await refuse(stream, ARRIVAL_TOO_LATE)  # type: ignore[arg-type]
        assert stream.sent == [
            (
                [
                    (":status", "200"),
                    ("content-type", "application/grpc"),
                    ("grpc-status", str(Status.DEADLINE_EXCEEDED.value)),
                    ("grpc-message", ARRIVAL_TOO_LATE.message),
                ],
                True,
            )
        ]
        assert stream.reset is closable
