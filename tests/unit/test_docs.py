"""Each code block in README.md and docs/ is something a test runs or checks.

A block is an examples/ file shown whole (its source in ``<!-- examples/NAME -->`` on the line
above), nox commands, the CLI's usage (``<!-- voicecore COMMAND --help -->``) or a picture
(``<!-- diagram -->``). tests/integration/test_examples.py runs the examples; this file checks
that the documents show them as they are, so none can drift from what runs.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from voicecore.cli import main
from voicecore.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = sorted(path for path in (ROOT / "examples").iterdir() if path.is_file())
COMMANDS = ["serve", "call", "events", "health", "primitives", "delete-conversation"]
# A block may name its source in an HTML comment on the line above it (unseen on GitHub).
FENCE = re.compile(
    r"^(?:<!-- (?P<source>[^>]+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.M | re.S
)
NOX_COMMAND = re.compile(r"^nox(?: -s (?P<session>[\w-]+))?(?: -- [^#]*?)?\s*(?:#.*)?$")
NOX_SESSION = re.compile(r"\bnox -s (?P<session>[\w-]+)")
# Sources of blocks that hold no command: the CLI's synopsis (checked below), pictures, and
# docs/api.md's blocks, written by `nox -s docs` (tests/unit/test_apidocs.py checks them).
NOT_COMMANDS = {"voicecore COMMAND --help", "diagram", "nox -s docs"}
QUICKSTART = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/voicecore serve\n",
    "python3 -m pip install nox==2026.10.20 && python3 -m nox\n",
]


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block of a document."""

    document: str
    source: str | None
    body: str

    def __str__(self) -> str:
        return f"{self.document}: {self.body.splitlines()[0]!r}"


def code_blocks(text: str, document: str) -> list[CodeBlock]:
    """The fenced code blocks of ``text``, in order."""
    return [CodeBlock(document, m["source"], m["body"]) for m in FENCE.finditer(text)]


def readme_section(title: str) -> str:
    """The text of README's ``## title`` section."""
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def every_block() -> list[CodeBlock]:
    """The code blocks of README and docs/, the Quickstart's left out (tested on their own)."""
    quickstart = code_blocks(readme_section("Quickstart"), "README.md")
    blocks = [
        block
        for document in DOCUMENTS
        for block in code_blocks(document.read_text(encoding="utf-8"), document.name)
    ]
    return [block for block in blocks if block not in quickstart]


def nox_sessions() -> set[str]:
    """The sessions noxfile.py defines (functions decorated with ``nox.session``)."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("nox.session" in ast.unparse(decorator) for decorator in node.decorator_list)
    }


def usage(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The usage paragraph ``voicecore COMMAND --help`` prints."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out.split("\n\n", 1)[0]


class TestCodeBlocks:
    """Each code block is something a test runs or checks."""

    @pytest.mark.parametrize("block", every_block(), ids=str)
    def test_block_is_an_example_a_nox_command_or_the_usage(self, block: CodeBlock) -> None:
        """A block that names no source holds only nox commands (and comments).

        A picture, which nothing runs, says so: ``<!-- diagram -->`` on the line above it.
        """
        if block.source is not None:
            assert block.source.startswith("examples/") or block.source in NOT_COMMANDS
            return
        for line in block.body.splitlines():
            assert NOX_COMMAND.match(line), f"{block}: {line!r} is not an example or nox"

    @pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
    def test_nox_sessions_exist(self, document: Path) -> None:
        """Every `nox -s NAME` in the documents names a session of noxfile.py."""
        named = set(NOX_SESSION.findall(document.read_text(encoding="utf-8")))
        assert named <= nox_sessions()

    def test_examples_are_shown_as_they_are(self) -> None:
        """A block naming an examples/ file is that file's whole content."""
        shown = [block for block in every_block() if (block.source or "").startswith("examples/")]
        assert shown
        for block in shown:
            assert block.source is not None
            assert block.body == (ROOT / block.source).read_text(encoding="utf-8"), block.source

    def test_every_example_is_shown(self) -> None:
        """Each file under examples/ appears in README or docs/, as a block naming it."""
        shown = {block.source for block in every_block()}
        assert {f"examples/{path.name}" for path in EXAMPLES} <= shown

    def test_cli_usage_is_what_help_prints(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """README's CLI synopsis is each command's usage at 100 columns, as --help prints it."""
        monkeypatch.setenv("COLUMNS", "102")  # argparse leaves two columns free
        (block,) = [block for block in every_block() if block.source == "voicecore COMMAND --help"]
        assert block.body == "\n".join(usage(command, capsys) for command in COMMANDS) + "\n"


class TestQuickstart:
    """The Quickstart stays two commands, and both stay true."""

    def test_two_commands(self) -> None:
        """Exactly two blocks of one command each: install and serve, then every check."""
        blocks = code_blocks(readme_section("Quickstart"), "README.md")
        assert [block.body for block in blocks] == QUICKSTART

    def test_ci_runs_the_check_command_verbatim(self) -> None:
        """The second command is what CI runs."""
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        assert QUICKSTART[1] in ci.splitlines(keepends=True)

    def test_serve_command_and_its_port(self) -> None:
        """The package installs `voicecore`, and serve listens on port 50051 as the text says."""
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        assert pyproject["project"]["scripts"]["voicecore"] == "voicecore.cli:main"
        assert "Run the server (listens on 127.0.0.1:50051, this machine only):" in readme_section(
            "Quickstart"
        )
        assert Settings.model_fields["host"].default == "127.0.0.1"
        assert Settings.model_fields["port"].default == 50051


class TestConfiguration:
    """README's configuration table is the settings, every one, with its default."""

    ROW = re.compile(r"^\| `VOICECORE_(?P<name>\w+)` \| `(?P<default>[^`]*)` \|", re.M)

    @staticmethod
    def shown(default: object) -> str:
        """A default as the table writes it: booleans in lower case, whole numbers as ints."""
        if isinstance(default, bool):
            return str(default).lower()
        if isinstance(default, float) and default.is_integer():
            return str(int(default))
        return str(default)

    def test_table_lists_every_setting_with_its_default(self) -> None:
        """A setting added, renamed or given a new default without the README fails here."""
        rows = self.ROW.findall(readme_section("Configuration"))
        table = {name.lower(): default for name, default in rows}
        assert len(rows) == len(table), "a setting is listed twice"
        expected = {
            name: self.shown(field.default) for name, field in Settings.model_fields.items()
        }
        assert table == expected
