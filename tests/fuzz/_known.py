"""Which open item of issue 8 a finding matches, judged from its kind and reproducer.

Only for ``--allow-known``: a known finding is still printed, it just does not fail the run.
Remove a rule here once its item is fixed, so that a regression fails again.
"""

from __future__ import annotations

import re

__all__ = ["known_issue"]

_BIG_REPEAT = re.compile(r"Repeated\(unit='([^']*)', count=(\d+)\)")
_REPEAT = re.compile(r"repeat=(\d+)")
_MANY_KEYS = re.compile(r"ManyKeys\(n=(\d+)\)")
_NUMBER_WORDS = ("twenty one ", "one ", "oh ", "double ", "five five ", "hundred ", "nine ")


def known_issue(kind: str, detail: str, reproducer: str) -> str:
    """``"issue 8 #N ..."`` for a finding that matches a listed, still open item, else ""."""
    if kind == "crash" and "status -13" in detail:
        return "issue 8 #1: SIGPIPE kills serve when a peer disconnects"
    if kind == "memory":
        return "issue 8 #5: memory bounded by entries, not bytes"
    repeats = [(unit, int(count)) for unit, count in _BIG_REPEAT.findall(reproducer)]
    if kind == "stall" and any(unit in _NUMBER_WORDS for unit, _ in repeats):
        return "issue 8 #2: number-word transcriptions parse in exponential time"
    if "trace" in reproducer and any(count > 128 for _, count in repeats):
        return "issue 8 #3: a long trace id is echoed as a header"
    if any(count >= 65_536 for _, count in repeats):
        return "issue 8 #5: string fields are not bounded"
    if any(int(n) >= 1_000 for n in _MANY_KEYS.findall(reproducer)):
        return "issue 8 #6: params keys are not capped"
    if any(int(n) > 1 for n in _REPEAT.findall(reproducer)):
        return "issue 8 #4/#7: HTTP/2 floods and idle streams"
    return ""
