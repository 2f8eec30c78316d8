"""Run NeMo's English inverse text normaliser on lines from stdin; print JSON lines.

Runs inside a venv that has ``nemo_text_processing`` (``accuracy.py --compare-nemo`` starts it
there), so the project's own venv never needs NeMo or pynini. Input: one JSON object per line,
``{"text": str, "cased": bool}``; output: ``{"output": str, "us": float}`` per line, where
``us`` is the median time of ``--repeats`` calls in microseconds. The lower-case eval files use
NeMo's ``lower_cased`` grammar and the ``_cased`` files its ``cased`` grammar, as NeMo's own
tests do.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

__all__ = ["main"]


def main() -> None:
    """Read requests from stdin until EOF, answer each on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", default=None, help="where NeMo keeps its compiled grammars")
    args = parser.parse_args()
    from nemo_text_processing.inverse_text_normalization.inverse_normalize import (  # type: ignore[import-not-found]
        InverseNormalizer,
    )

    normalizers = {
        False: InverseNormalizer(lang="en", input_case="lower_cased", cache_dir=args.cache_dir),
        True: InverseNormalizer(lang="en", input_case="cased", cache_dir=args.cache_dir),
    }
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        normalizer = normalizers[bool(request["cased"])]
        timings, output = [], ""
        for _ in range(max(1, args.repeats)):
            start = time.perf_counter_ns()
            output = normalizer.inverse_normalize(request["text"], verbose=False)
            timings.append((time.perf_counter_ns() - start) / 1000)
        print(json.dumps({"output": output, "us": statistics.median(timings)}), flush=True)


if __name__ == "__main__":
    main()
