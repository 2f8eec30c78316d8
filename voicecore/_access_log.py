"""The access log: one INFO line per call, as a web server writes one per request.

A line names the method, the objective type and resulting state of a turn, the status code,
the duration in milliseconds, the trace id and the peer; never a captured value, a params
field or a conversation id beyond what the trace id leads to. ``--log-json`` makes each line
a JSON object (loguru's ``serialize``) with these fields under ``record.extra``;
``--no-access-log`` turns the lines off. ``voicecore._metrics.CallObserver`` writes them when
a call's task ends, so refused and cancelled calls have their line too.
"""

from __future__ import annotations

from typing import Final

from loguru import logger

__all__ = ["AccessLog"]

#: Characters of a method path logged: a path the server does not serve is the client's text.
_MAX_METHOD: Final = 200


class AccessLog:
    """Writes the access-log line of each call (see the module docstring)."""

    def write(
        self,
        *,
        method: str,
        objective_type: str,
        state: str,
        code: str,
        seconds: float,
        trace_id: str,
        peer: str,
    ) -> None:
        """One INFO line: ``call`` with the call's facts as extras."""
        logger.info(
            "call",
            method=method[:_MAX_METHOD],
            objective_type=objective_type,
            state=state,
            code=code,
            duration_ms=round(seconds * 1000, 3),
            trace_id=trace_id,
            peer=peer,
        )
