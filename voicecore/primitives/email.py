"""``capture_email``: an email address, spoken ("j smith at gmail dot com") or written."""

from __future__ import annotations

import re
from collections.abc import Iterator

from email_validator import EmailNotValidError, validate_email

from voicecore.capture import CaptureParams, CapturePrimitive, HeldValue, Reading, Reply
from voicecore.spoken.compose import Piece, compose, joined
from voicecore.spoken.edits import edit_spelled, spelled_edit
from voicecore.spoken.letters import spoken_letters
from voicecore.spoken.readback import say_characters
from voicecore.spoken.symbols import spoken_symbol
from voicecore.spoken.tokens import after_correction, drop_fillers, strip_carrier, words

__all__ = ["CaptureEmail", "CaptureEmailParams"]

# Written addresses inside a sentence: a run of local-part characters, "@", a run of domain
# characters. The local part is ASCII so "a邮箱test@x.com" -> test@...
_LOCAL_RUN = re.compile(r"[A-Za-z0-9._%+\-]+")
_DOMAIN_RUN = re.compile(r"[A-Za-z0-9\-.]+")
_TLD = re.compile(r"\.[a-z]{2,}$")
# Providers callers name without the ".com" ("john at gmail"), and that readback says as words.
_PROVIDERS = frozenset(
    (
        "gmail", "yahoo", "hotmail", "outlook", "aol", "icloud", "msn", "live", "protonmail",
        "proton", "comcast", "verizon", "att", "sbcglobal", "bellsouth", "mail", "me",
    )
)  # fmt: skip
_TOP_LEVEL = frozenset(("com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "info", "biz"))
_SPOKEN_LABELS = _PROVIDERS | _TOP_LEVEL
_DOTCOM = {"dotcom": ("dot", "com"), "dotnet": ("dot", "net"), "dotorg": ("dot", "org")}
_CERTAIN = 0.95
# Words that end the talk before a local part said as words (see ``_without_talk``).
_TALK_ENDS = frozenset(("is", "was", "be", "at"))
_GUESSED_TLD = 0.7


class CaptureEmailParams(CaptureParams):
    """Params of ``capture_email``: the shared capture params."""


def _validated(address: str) -> str | None:
    """The normalised lower-case address, or None if it is not a deliverable-looking address."""
    if not _TLD.search(address.lower()):
        return None
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def _written_candidates(text: str) -> Iterator[str]:
    """Each "local@domain" written in ``text``, left to right, as a regex search for
    ``local-run@domain-run`` finds them, without retrying it from every character of a long
    run that has no "@" (quadratic: 2,000 letters cost 10 ms). Each match starts where the
    run before its "@" starts, but not before the previous match ended."""
    run_starts = {run.end(): run.start() for run in _LOCAL_RUN.finditer(text)}
    end = 0
    at = text.find("@")
    while at >= 0:
        start = max(run_starts.get(at, at), end)
        domain = _DOMAIN_RUN.match(text, at + 1)
        if start < at and domain is not None:
            end = domain.end()
            yield text[start:end]
        at = text.find("@", at + 1)


def _written_address(text: str) -> str | None:
    """The first valid address written in ``text`` ("write to Dave@abc.com."), if any."""
    for written in _written_candidates(text):
        candidate = _validated(written.rstrip(".-"))
        if candidate is not None:
            return candidate
    return None


def _at_index(tokens: list[str]) -> tuple[int, int]:
    """Where the "at" is and its length: the last one with a "dot" after it, else the last;
    without any "at", the last "and" with a dot after it ("jenny and yahoo dot com": ASRs
    hear "at" as "and" before a domain)."""
    found: list[tuple[int, int]] = []
    for index in range(len(tokens)):
        symbol, length = spoken_symbol(tokens, index)
        if symbol == "@":
            found.append((index, length))
    # One pass for the last dot, not a scan after every "at": "at at at ..." was quadratic.
    dots = (i for i, t in enumerate(tokens) if t in ("dot", "period") or "." in t)
    last_dot = max(dots, default=-1)
    with_dot = [(i, n) for i, n in found if i + n <= last_dot]
    if with_dot:
        return with_dot[-1]
    if found:
        return found[-1]
    ands = [index for index, token in enumerate(tokens[: max(last_dot, 0)]) if token == "and"]
    return (ands[-1], 1) if ands else (-1, 0)


#: Whole words a local part is said in at most ("mary ann smith"): more are talk an ASR
#: misheard ("you have you can reach me at ...", "my email and then johnson at ..."), whose
#: words would make a wrong address; the caller is asked again instead.
_MOST_LOCAL_WORDS = 3


def _without_talk(said: list[str]) -> list[str]:
    """The local part's words without the talk before them: what follows the last "is",
    "was", "be", "it's" (any "...'s") or an earlier "at" ("the best email to reach me is
    jenny", "but you can reach me at peter"), words no address says there (it has one "@")."""
    cut = max(
        (i for i, token in enumerate(said) if token in _TALK_ENDS or token.endswith("'s")),
        default=-1,
    )
    return said[cut + 1 :] if cut + 1 < len(said) else said


def _domain(pieces: list[Piece]) -> tuple[str, float]:
    """The domain; talk after the top-level domain is dropped, a provider's ".com" guessed."""
    text = joined(pieces)
    if not any(piece.text == "." for piece in pieces):
        return (text + ".com", _GUESSED_TLD) if text in _PROVIDERS else (text, _CERTAIN)
    last_dot = max(index for index, piece in enumerate(pieces) if piece.text == ".")
    end = last_dot + 2
    # A spelled top-level domain ("e d u") is several letter pieces; a said one is one word.
    while end < len(pieces) and pieces[last_dot + 1].kind == "letters" == pieces[end].kind:
        end += 1
    return joined(pieces[:end]), _CERTAIN


def _spoken_address(tokens: list[str]) -> tuple[str | None, str, float]:
    """(address, reason, certainty) read from spoken tokens."""
    tokens = [part for token in tokens for part in _DOTCOM.get(token, (token,))]
    at, length = _at_index(tokens)
    if at <= 0:
        return None, "no_at_sign", 0.0
    local_pieces = compose(_without_talk(tokens[:at]))
    if sum(piece.kind == "word" for piece in local_pieces) > _MOST_LOCAL_WORDS:
        return None, "invalid_email", 0.0  # talk swallowed into the local part
    local = joined(local_pieces)
    domain, certainty = _domain(compose(tokens[at + length :]))
    address = _validated(f"{local}@{domain}")
    if address is None:
        return None, "invalid_email", 0.0
    return address, "", certainty


def _said_domain(tokens: list[str]) -> str | None:
    """A domain said on its own ("it's yahoo dot com", "at outlook dot com"), ending in a
    known top-level domain so that "j o n dot smith" stays a local part."""
    tokens = strip_carrier(tokens)
    tokens = [
        part for token in tokens[tokens[:1] == ["at"] :] for part in _DOTCOM.get(token, (token,))
    ]
    pieces = compose(tokens)
    if not pieces or any(piece.text == "@" for piece in pieces):
        return None
    domain, _ = _domain(pieces)
    return domain if domain.rpartition(".")[2] in _TOP_LEVEL else None


def _spelled_local(tokens: list[str]) -> str | None:
    """A local part spelled on its own ("it's j o h n", "p e t e r dash one three"): two or
    more characters, letters among them, nothing but letters, digits and symbols."""
    letters = spoken_letters(strip_carrier(tokens))
    if letters is not None:
        return letters if len(letters) >= 2 else None
    pieces = compose(strip_carrier(tokens))
    if not all(piece.kind in ("letters", "digits", "symbol") for piece in pieces):
        return None
    local = joined(pieces)
    spelled = any(piece.kind == "letters" for piece in pieces) and "@" not in local
    return local if spelled and len(local) >= 2 else None


def _say_domain(domain: str) -> str:
    labels = domain.split(".")
    said = [label if label in _SPOKEN_LABELS else say_characters(label) for label in labels]
    return " dot ".join(said)


def email_reading(address: str, certainty: float) -> Reading:
    """The reading of a valid lower-case ``address``."""
    local, _, domain = address.rpartition("@")
    readback = f"{say_characters(local)} at {_say_domain(domain)}"
    return Reading(
        value=address,
        readback=readback,
        parts={"local": local, "domain": domain},
        certainty=certainty,
    )


class CaptureEmail(CapturePrimitive[CaptureEmailParams]):
    """Captures an email address spoken letter by letter, as words, or written.

    Reads "my email is j smith at gmail dot com", "john dot smith at g mail dot com",
    "b as in boy ...", self-corrections ("... no wait ..."), and written addresses; the
    value is validated by ``email_validator`` (syntax only, no DNS).
    """

    name = "capture_email"
    version = "1.0.0"
    description = "Capture an email address spoken or spelled by the caller."
    noun = "email address"
    params_model = CaptureEmailParams

    def read(self, text: str, params: CaptureEmailParams, partial: str | None) -> Reading:
        """Read one hypothesis as an email address."""
        written = _written_address(text)
        if written is not None:
            return email_reading(written, _CERTAIN)
        tokens = strip_carrier(after_correction(drop_fillers(words(text))))
        if not tokens:
            return Reading(value=None, reason="no_value_heard", certainty=0.0)
        address, reason, certainty = _spoken_address(tokens)
        if address is None:
            return Reading(value=None, reason=reason, certainty=0.0)
        return email_reading(address, certainty)

    def correct(
        self,
        held: HeldValue,
        reply: Reply,
        params: CaptureEmailParams,
    ) -> Reading | None:
        """Edit the held address in part ("s as in sam", "it's j o n not j o h n", "it's
        yahoo dot com", "it's j o h n": a spelled local part alone replaces the local part)."""
        local, _, domain = held.value.rpartition("@")
        tokens = drop_fillers(words(reply.edit_text))
        edited = spelled_edit(local, tokens)
        if edited == local:
            return None  # "the last letter was n" of "john": no edit, and not of the domain
        if edited is not None:
            address = _validated(f"{edited}@{domain}")
        elif (new_domain := _said_domain(tokens)) is not None:
            address = _validated(f"{local}@{new_domain}")
        elif (new_local := _spelled_local(tokens)) is not None:
            address = _validated(f"{new_local}@{domain}")
        else:
            whole = edit_spelled(held.value, tokens)
            address = _validated(whole) if whole is not None else None
        return email_reading(address, _CERTAIN) if address is not None else None
