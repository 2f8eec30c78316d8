"""``benchmarks/accuracy.py`` (``nox -s accuracy``) without its evaluation data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run_accuracy(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    """The accuracy bench in a clone with nothing beside it: no ../shared/eval."""
    benchmarks = tmp_path / "clone" / "benchmarks"
    benchmarks.mkdir(parents=True)
    for name in ("accuracy.py", "accuracy_cases.py"):
        shutil.copy(BENCHMARKS / name, benchmarks / name)
    return benchmarks / "accuracy.py"


class TestMissingEval:
    """A missing eval folder is one clear message and exit 1, never a traceback."""

    def test_fresh_clone(self, fresh_clone: Path, tmp_path: Path) -> None:
        """Says what is missing, where it is expected (../shared/eval) and where to get it."""
        run = _run_accuracy(fresh_clone)
        expected_at = tmp_path / "shared" / "eval"
        assert (run.returncode, run.stdout) == (1, "")
        assert run.stderr.startswith(f"accuracy: missing {expected_at}\n")
        assert "from ../shared/eval, a folder beside the\nrepository" in run.stderr
        assert "https://github.com/NVIDIA/NeMo-text-processing" in run.stderr
        assert "https://github.com/microsoft/Recognizers-Text" in run.stderr
        assert "Traceback" not in run.stderr

    def test_missing_file_is_named(self, fresh_clone: Path, tmp_path: Path) -> None:
        """With --eval-dir holding only part of the data, the first missing file is named."""
        eval_dir = tmp_path / "partial-eval"
        (eval_dir / "nemo_itn_en").mkdir(parents=True)
        run = _run_accuracy(fresh_clone, "--eval-dir", str(eval_dir))
        assert run.returncode == 1
        missing = eval_dir / "nemo_itn_en" / "telephone.tsv"
        assert run.stderr.startswith(f"accuracy: missing {missing}\n")
        assert "Traceback" not in run.stderr
