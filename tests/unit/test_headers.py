"""Request headers checked before grpclib: each problem gets its HTTP and gRPC status."""

from __future__ import annotations

import pytest
from grpclib.const import Status

from voicecore._headers import HeaderProblem, header_problem

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
