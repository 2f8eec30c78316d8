"""The audio pipeline's data: the cases (what a caller said, the value it carries) and the
transcripts (what an ASR heard from a TTS voice saying it). Both are committed JSON-lines files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CASES_FILE",
    "TRANSCRIPTS_FILE",
    "Case",
    "Hypothesis",
    "Transcript",
    "card_value",
    "load_cases",
    "load_transcripts",
]

HERE = Path(__file__).resolve().parent
CASES_FILE = HERE / "cases.jsonl"
TRANSCRIPTS_FILE = HERE / "transcripts.jsonl"


@dataclass(frozen=True)
class Case:
    """One caller utterance: ``text`` as said, ``value`` the ``data.value`` it should give."""

    id: str
    primitive: str
    text: str
    value: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "primitive": self.primitive,
            "text": self.text,
            "value": self.value,
            "params": self.params,
        }


@dataclass(frozen=True)
class Hypothesis:
    """One n-best entry: the words and the ASR's confidence in them (0..1; 0 = none given)."""

    text: str
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """What ``asr`` heard from ``voice`` saying case ``case_id``: its n-best list, best first."""

    case_id: str
    voice: str
    asr: str
    nbest: tuple[Hypothesis, ...]

    @property
    def text(self) -> str:
        return self.nbest[0].text if self.nbest else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "voice": self.voice,
            "asr": self.asr,
            "nbest": [{"text": h.text, "confidence": h.confidence} for h in self.nbest],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transcript:
        nbest = tuple(
            Hypothesis(str(h["text"]), float(h["confidence"])) for h in data.get("nbest", [])
        )
        return cls(str(data["case"]), str(data["voice"]), str(data["asr"]), nbest)


def card_value(number: str, expiry: str = "", cvv: str = "") -> str:
    """A card's value as a case writes it and the pipeline compares it: the number, the expiry
    (``MM/YY``) and the CVV, those given, space-separated ("4111111111111111 04/27 123"). The
    service gives the number in ``data.value`` and the others in ``data.expiry`` and
    ``data.cvv``: a card is right only when all its parts are."""
    return " ".join(part for part in (number, expiry, cvv) if part)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """The committed cases (``python -m benchmarks.audio.make_cases`` writes them)."""
    return [
        Case(d["id"], d["primitive"], d["text"], d["value"], dict(d.get("params", {})))
        for d in _lines(path)
    ]


def load_transcripts(path: Path = TRANSCRIPTS_FILE) -> list[Transcript]:
    """The committed transcripts; FileNotFoundError names the full run that writes them."""
    if not path.exists():
        raise FileNotFoundError(
            f"no transcripts at {path}: run the full pipeline first "
            "(nox -s audio, which speaks and decodes every case) or restore the committed file"
        )
    return [Transcript.from_json(d) for d in _lines(path)]
