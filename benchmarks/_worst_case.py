"""Worst-case parse time per primitive on adversarial utterances at the transcription limit.

A hostile or confused caller (or client) can send any text up to the 2,000-character limit, with
ten alternatives as long. For each primitive this runs every adversarial phrase of ``PHRASES``
repeated to the limit through these paths and reports the slowest median:

* ``read``: one hypothesis read as a value (``CapturePrimitive.read``; ``understand`` for confirm);
* ``value turn``: a whole first turn, the transcription and ten alternatives as long;
* ``answer turn``: a whole turn answering the readback of a held value, read as a correction
  (``correct``, then ``read``); ``no, answer turn`` the same after a "no".

Times are CPU seconds of this process (steadier than wall time on a shared machine). Lengths
grow 250, 500, 1,000, 2,000 characters, once each below the limit; a path slower than
``--budget`` seconds is not grown further (the old phone reader took minutes) and is reported at
the length it reached. Target: every primitive's worst ``read`` under 20 ms at 2,000 characters.

    python benchmarks/_worst_case.py [--repeats N] [--budget SECONDS] [--only NAME] [--json PATH]

``nox -s bench`` runs it after the server measurements; ``nox -s bench -- --worst-case-only``
runs only it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from voicecore.capture import CapturePrimitive, CaptureState, HeldValue, InMemoryCaptureStore
from voicecore.capture._machine import advance
from voicecore.primitive import Primitive, PrimitiveContext, PrimitiveResult
from voicecore.primitives import builtin_primitives
from voicecore.spoken.yesno import understand

__all__ = ["LIMIT", "PHRASES", "Timing", "main", "measure", "render", "worst"]

#: The transcription limit of ``UtteranceParams`` (and of each alternative).
LIMIT = 2000
_ALTERNATIVES = 10
_LENGTHS = (250, 500, 1000, LIMIT)
TARGET_MS = 20.0

#: Phrases that make some reader search, backtrack or rescan; each is repeated to the limit.
PHRASES: dict[str, str] = {
    "ambiguous tens": "twenty one ",
    "tens after a digit": "six fifty five ",
    "digit words": "five ",
    "double digits": "double five ",
    "hundreds": "one hundred and ",
    "thousands": "two thousand ",
    "written digits": "415 ",
    "dashed digits": "1-",
    "dotted digits": "1.",
    "one long number": "1",
    "one long word": "a",
    "at and dot": "at dot ",
    "at": "at ",
    "dot": "dot ",
    "corrections": "no wait ",
    "digits and corrections": "five five sorry ",
    "as in": "a as in apple ",
    "letters": "j o h n ",
    "dates": "march third twenty twenty ",
    "day first": "the fifth of march ",
    "weekdays": "next tuesday after next ",
    "offsets": "in three days from next friday ",
    "times": "quarter past two pm ",
    "clock": "two thirty ",
    "yes no": "yes no ",
    "negations": "that's not right ",
    "not digits": "not five five five ",
    "change": "change five to six ",
    "should be": "the last digit should be two ",
    "carriers": "my email is ",
    "fillers": "uh ",
    "minus point": "minus point five ",
    "and a half": "three and a half ",
    "unmatched parentheses": "1)",
    "the": "the ",
    "on": "on ",
    "next": "next ",
    "just": "just ",
    "no": "no ",
    "capital": "capital ",
}

#: What each capture primitive reads as the value it holds for the answer turn (read, not
#: written here: a card's value is a sealed token only its reader makes).
_HELD_SAID: dict[str, str] = {
    "capture_email": "john at gmail dot com",
    "capture_phone": "four one five five five five two six seven one",
    "capture_date": "march fifth",
    "capture_time": "two thirty pm",
    "capture_number": "forty two",
    "capture_digits": "one two three four five",
    "capture_name": "john",
    "capture_amount": "twelve fifty",
    "capture_choice": "the first one",
    "capture_address": "123 main street springfield illinois 62701",
    "capture_card": "4111 1111 1111 1111 expires 04 29 cvv 123",
}
_EXTRA_PARAMS: dict[str, dict[str, Any]] = {
    "capture_date": {"reference_date": date(2024, 3, 1)},
    "capture_choice": {
        "options": [
            {"id": f"option-{n}", "label": f"{colour} plan", "synonyms": [f"the {colour} one"]}
            for n, colour in enumerate(("red", "blue", "green", "gold", "silver", "black"))
        ]
    },
}


def _held(primitive: CapturePrimitive[Any], params: Any) -> HeldValue:
    """The value ``primitive`` holds for the answer turn, read from its ``_HELD_SAID``."""
    said = _HELD_SAID[primitive.name]
    reading = primitive.read(said, params.model_copy(update={"transcription": said}), None)
    if reading.value is None:
        raise RuntimeError(f"{primitive.name} reads no value from {said!r}: update _HELD_SAID")
    return HeldValue(reading.value, reading.readback, reading.parts, 0.9)


def filled(phrase: str, limit: int) -> str:
    """``phrase`` repeated to at most ``limit`` characters (whole repeats only)."""
    return phrase * max(1, limit // len(phrase))


def _texts(phrase: str, limit: int) -> tuple[str, list[str]]:
    """The transcription and ten distinct alternatives, each at most ``limit`` characters.

    Alternatives differ by leading fillers, which every reader drops, so each is as hard as
    the transcription and none is collapsed as a duplicate.
    """
    alternatives = [
        "uh " * index + filled(phrase, limit - 3 * index) for index in range(1, _ALTERNATIVES + 1)
    ]
    return filled(phrase, limit), alternatives


@dataclass(frozen=True)
class Timing:
    """The median seconds of one path on one phrase, at the longest length it reached."""

    primitive: str
    path: str
    phrase: str
    chars: int
    seconds: float


def _median_seconds(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
        if times[-1] > 0.5:  # slow enough that one run says it
            break
    return statistics.median(times)


def _run_sync(coroutine: Coroutine[Any, Any, PrimitiveResult]) -> PrimitiveResult:
    """Run a coroutine that never awaits anything pending (confirm's ``execute``)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise RuntimeError("the coroutine awaited something")


async def _no_emit(event: str, payload: Mapping[str, Any]) -> int:
    return 0


_CONTEXT = PrimitiveContext("confirm", "bench", _no_emit, InMemoryCaptureStore())


def _paths(primitive: Primitive[Any], phrase: str, limit: int) -> dict[str, Callable[[], object]]:
    """The calls to time for one primitive and one phrase at ``limit`` characters."""
    text, alternatives = _texts(phrase, limit)
    raw = {
        "transcription": text,
        "alternatives": [{"transcription": alt} for alt in alternatives],
        **_EXTRA_PARAMS.get(primitive.name, {}),
    }
    params: Any = primitive.params_model.model_validate(raw)
    if not isinstance(primitive, CapturePrimitive):
        return {
            "read": lambda: understand(text),
            "value turn": lambda: _run_sync(primitive.execute(params, _CONTEXT)),
        }
    held = CaptureState(held=_held(primitive, params))
    no_params: Any = primitive.params_model.model_validate(
        {**raw, "transcription": "no " + text[: limit - 3]}
    )
    return {
        "read": lambda: primitive.read(text, params, None),
        "value turn": lambda: advance(primitive, params, CaptureState()),
        "answer turn": lambda: advance(primitive, params, held),
        "no, answer turn": lambda: advance(primitive, no_params, held),
    }


def measure(
    repeats: int = 3,
    budget: float = 1.0,
    only: str | None = None,
    phrases: Mapping[str, str] = PHRASES,
    progress: bool = False,
) -> list[Timing]:
    """Every primitive, path and phrase at the longest length within ``budget``."""
    timings: list[Timing] = []
    for primitive in builtin_primitives():
        if only and primitive.name != only:
            continue
        for name, phrase in phrases.items():
            for timing in _case(primitive, name, phrase, repeats, budget).values():
                timings.append(timing)
                if progress:
                    print(_line(timing), file=sys.stderr, flush=True)
    return timings


def _case(
    primitive: Primitive[Any], name: str, phrase: str, repeats: int, budget: float
) -> dict[str, Timing]:
    """Each path on one phrase: once at each shorter length (to stop a path that is already
    over ``budget``), ``repeats`` times at the limit."""
    reached: dict[str, Timing] = {}
    for limit in _LENGTHS:
        runs = repeats if limit == LIMIT else 1
        for path, call in _paths(primitive, phrase, limit).items():
            if path in reached and reached[path].seconds > budget:
                continue
            seconds = _median_seconds(call, runs)
            reached[path] = Timing(primitive.name, path, name, limit, seconds)
    return reached


def _line(timing: Timing) -> str:
    return (
        f"{timing.primitive:15} {timing.path:16} {timing.phrase:24} {timing.chars:5} "
        f"{timing.seconds * 1000:10.2f} ms"
    )


def worst(timings: list[Timing]) -> dict[tuple[str, str], Timing]:
    """Per (primitive, path), the slowest phrase. A case stopped short of the limit ranks by
    its time scaled linearly to the limit, a lower bound of what the limit would cost."""
    result: dict[tuple[str, str], Timing] = {}
    for timing in timings:
        key = (timing.primitive, timing.path)
        current = result.get(key)
        if current is None or _at_limit(timing) > _at_limit(current):
            result[key] = timing
    return result


def _at_limit(timing: Timing) -> float:
    return timing.seconds * LIMIT / timing.chars


def render(timings: list[Timing]) -> str:
    """A Markdown table: per primitive and path, the worst phrase and its median time."""
    lines = [
        f"Worst-case parse time at {LIMIT:,} characters (median; target: read under "
        f"{TARGET_MS:.0f} ms); a turn has the transcription and {_ALTERNATIVES} alternatives.",
        "",
        "| primitive | path | worst phrase | chars | median ms | target |",
        "|---|---|---|---|---|---|",
    ]
    for (primitive, path), timing in sorted(worst(timings).items()):
        cut = "" if timing.chars == LIMIT else " (stopped: over budget)"
        lines.append(
            f"| {primitive} | {path} | {timing.phrase} | {timing.chars:,}{cut} "
            f"| {timing.seconds * 1000:.2f} | {_verdict(timing)} |"
        )
    return "\n".join(lines)


def _verdict(timing: Timing) -> str:
    """PASS or MISS against the target, for a read; a turn has no target of its own."""
    if timing.path != "read":
        return ""
    met = timing.chars == LIMIT and timing.seconds * 1000 < TARGET_MS
    return "PASS" if met else "MISS"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds before a case stops")
    parser.add_argument("--only", help="one primitive by name")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    parser.add_argument("--progress", action="store_true", help="each case on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Measure, print the table, optionally write JSON."""
    args = _parse_args(argv)
    timings = measure(args.repeats, args.budget, args.only, progress=args.progress)
    print(render(timings), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2))


if __name__ == "__main__":
    main()
