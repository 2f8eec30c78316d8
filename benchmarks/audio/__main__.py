"""The audio pipeline: ``nox -s audio`` runs ``python -m benchmarks.audio``.

    python -m benchmarks.audio [--score-only] [--limit N] [--cache-dir DIR] [--write-docs]

The full run speaks every case with TTS voices, decodes it with the ASRs
(``benchmarks.audio.transcribe``), writes benchmarks/audio/transcripts.jsonl, then scores the
transcripts against a ``voicecore serve`` subprocess (``benchmarks.audio.score``) and prints the
report. ``--score-only`` skips TTS and ASR and rescores the committed transcripts against the
current code, in seconds. ``--limit N``: only the first N cases (a CI budget; a limited full run
writes its transcripts into the cache directory, never over the committed ones).
``--write-docs`` writes the report to docs/audio.md. It is a report: the exit code is 0 whatever
the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.audio.cases import TRANSCRIPTS_FILE, load_cases, load_transcripts
from benchmarks.audio.score import render_markdown, score

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "audio.md"
DOC_HEAD = ROOT / "benchmarks" / "audio" / "doc_head.md"


def _options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="TTS -> ASR -> voicecore serve, scored")
    parser.add_argument("--score-only", action="store_true", help="rescore committed transcripts")
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where audio is cached")
    parser.add_argument("--transcripts", type=Path, default=None, help="transcripts file to use")
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = _options(argv)
    cases = load_cases()[: options.limit]
    transcripts_file = options.transcripts or TRANSCRIPTS_FILE
    if not options.score_only:
        from benchmarks.audio import transcribe

        cache = options.cache_dir or transcribe.DEFAULT_CACHE
        if options.transcripts is None and options.limit is not None:
            transcripts_file = cache / "transcripts.limited.jsonl"
        args = ["--out", str(transcripts_file), "--cache-dir", str(cache)]
        if options.limit is not None:
            args += ["--limit", str(options.limit)]
        transcribe.main(args)
    try:
        transcripts = load_transcripts(transcripts_file)
    except FileNotFoundError as missing:
        print(f"audio: {missing}", file=sys.stderr)
        return 2
    report = asyncio.run(score(cases, transcripts))
    body = render_markdown(report)
    print(body)
    if options.write_docs:
        DOC.write_text(DOC_HEAD.read_text() + "\n" + body)
        print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
