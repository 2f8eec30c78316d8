"""The eval files of ../shared/eval turned into scored cases, by the rules of its README.md.

Each class pairs the lines in scope with the capture primitive that should read them, the
keys a correct reading may have, and how to turn a reading (or NeMo's written output) into
such a key. Lines out of scope are kept in ``excluded`` with the reason; none is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import phonenumbers

__all__ = ["Case", "EvalClass", "Excluded", "load_classes"]

KeyOf = Callable[[str | None, dict[str, object]], str | None]
"""(value, parts) of a reading -> the key scored; None means no value."""


@dataclass(frozen=True)
class Case:
    """One scored input: what to feed, and the keys that count as right (empty: no value)."""

    source: str
    text: str
    accepted: frozenset[str]
    cased: bool = False


@dataclass(frozen=True)
class Excluded:
    """A line left out of a class, and why."""

    source: str
    text: str
    reason: str


@dataclass
class EvalClass:
    """A scored class: the primitive, its cases, and how readings and NeMo output are keyed."""

    name: str
    primitive: str
    key_of: KeyOf
    nemo_key: Callable[[str], str | None] | None
    target: float | None
    cases: list[Case] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)
    matches: Callable[[str | None, frozenset[str]], bool] = field(default=lambda k, a: _in(k, a))
    negative: bool = False


def _in(key: str | None, accepted: frozenset[str]) -> bool:
    """No value is right only where none is expected; a value must be one of ``accepted``."""
    return not accepted if key is None else key in accepted


# Fixed so the yearless dates ("january first") and the figures are reproducible.
REFERENCE_DATE = "2024-06-15"
_MONTHS = {
    name: index + 1
    for index, name in enumerate(
        "january february march april may june july august september october november "
        "december".split()
    )
}
# NeMo leaves some numbers as words ("zero", cased "Twelve"); the README counts "zero" as 0,
# and a lone number word NeMo kept counts as its number by the same rule.
_NUMBER_WORDS_KEPT = {"zero": "0", "twelve": "12"}
_CLOCK = re.compile(r"(\d{2}):(\d{2})(?: ([ap])\.m\.)?", re.IGNORECASE)
_PHONE_SURFACE = re.compile(r"^\+?[0-9][0-9 -]*$")


def _tsv(path: Path) -> Iterator[tuple[str, str, str]]:
    """(source, spoken, written) per line, split on the first TAB as SOURCE.md says."""
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line == "" and number > 1:
            continue
        spoken, _, written = line.partition("\t")
        yield f"nemo/{path.name}:{number}", spoken, written


# --- keys -----------------------------------------------------------------------------------


def _decimal_key(text: str | None) -> str | None:
    if text is None:
        return None
    text = _NUMBER_WORDS_KEPT.get(text.strip().lower(), text)
    try:
        return str(Decimal(text.replace(",", "")).normalize())
    except InvalidOperation:
        return None


def _email_key(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", "", text).lower()


def _digits_key(text: str | None) -> str | None:
    if text is None:
        return None
    digits = re.sub(r"[^0-9]", "", text)
    return ("+" + digits if text.strip().startswith("+") else digits) or None


def _code_key(text: str | None) -> str | None:
    """Upper-case without spaces or hyphens; the carrier "ssn is" NeMo keeps is no code."""
    if text is None:
        return None
    code = re.sub(r"^ssn is ", "", text, flags=re.IGNORECASE)
    return re.sub(r"[\s-]", "", code).upper() or None


def date_iso(surface: str) -> str | None:
    """NeMo's written date as ISO, or ``--MM-DD`` when it has no year; None without a day."""
    words = surface.lower().split()
    if len(words) not in (2, 3):
        return None
    if words[0] in _MONTHS and _is_day(words[1]):
        month, day = _MONTHS[words[0]], int(words[1])
    elif words[1] in _MONTHS and _is_day(words[0]):
        month, day = _MONTHS[words[1]], int(words[0])
    else:
        return None
    if len(words) == 3 and not (words[2].isdigit() and len(words[2]) == 4):
        return None
    year = words[2] if len(words) == 3 else "-"
    return f"{year}-{month:02d}-{day:02d}"


def _is_day(word: str) -> bool:
    return word.isdigit() and len(word) <= 2


def _date_reason(surface: str) -> str:
    text = surface.lower()
    for pattern, reason in (
        (r"bc$", "a BC year, no day"),
        (r"^q\d", "a quarter, no day"),
        (r"^\d{4}s$", "a decade, no day"),
        (r"^\d{3,4}$", "a bare year, no day"),
        (r"^[a-z]+ \d{3,4}$", "month and year, no day"),
    ):
        if re.search(pattern, text):
            return reason
    return "not a full date"


def time_keys(surface: str) -> frozenset[str] | None:
    """NeMo's written time as the HH:MM readings that count (one with a.m./p.m., else two)."""
    match = _CLOCK.search(surface)
    if match is None:
        return None
    hour, minute, half = int(match.group(1)), match.group(2), (match.group(3) or "").lower()
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
        return frozenset([f"{hour:02d}:{minute}"])
    return frozenset({f"{hour % 12:02d}:{minute}", f"{hour % 12 + 12:02d}:{minute}"})


def _time_key(surface: str) -> str | None:
    keys = time_keys(surface)
    return min(keys) if keys is not None and len(keys) == 1 else _first_clock(surface)


def _first_clock(surface: str) -> str | None:
    match = _CLOCK.search(surface)
    return None if match is None else f"{match.group(1)}:{match.group(2)}"


def _e164(text: str) -> str | None:
    """E.164 where phonenumbers reads a valid number with region US, else None."""
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def rt_phone_accepted(expected: str) -> str:
    """The key an expected Recognizers-Text phone must match: E.164 if valid, else digits."""
    e164 = _e164(expected)
    return f"e164:{e164}" if e164 else f"digits:{re.sub(r'[^0-9]', '', expected)}"


def _rt_phone_keys(value: str | None, parts: dict[str, object]) -> str | None:
    """A captured phone's keys, "|"-joined after "value" or, when the primitive rejected the
    number, "heard": the value's E.164 form and digits, and the digits heard (with any
    extension, as the expected strings carry it); None when nothing was heard."""
    heard = str(parts.get("digits") or "")
    extension = str(parts.get("extension") or "")
    if value is None and not heard:
        return None
    keys = {f"digits:{re.sub(r'[^0-9]', '', said)}" for said in (value or "", heard) if said}
    keys.add(f"digits:{re.sub(r'[^0-9]', '', heard)}{extension}")
    if value and (e164 := _e164(value)) is not None:
        keys.add(f"e164:{e164}")
    if heard and (e164 := _e164(heard)) is not None:
        keys.add(f"e164:{e164}")
    return ("value|" if value else "heard|") + "|".join(sorted(keys))


def rt_phone_matches(key: str | None, accepted: frozenset[str]) -> bool:
    """Nothing expected: no value may be captured. Else one of the keys must be expected."""
    if not accepted:
        return key is None or key.startswith("heard|")
    return key is not None and not accepted.isdisjoint(key.split("|")[1:])


def _heard_digits(value: str | None, parts: dict[str, object]) -> str | None:
    digits = parts.get("digits")
    return _digits_key(digits) if isinstance(digits, str) and digits else None


# --- classes --------------------------------------------------------------------------------


def _suffix(cased: bool) -> str:
    return "_cased" if cased else ""


def _cardinal(root: Path, cased: bool) -> EvalClass:
    cls = EvalClass(
        f"cardinal{_suffix(cased)}",
        "capture_number",
        lambda v, p: _decimal_key(v),
        _decimal_key,
        1.0,
    )
    for source, spoken, written in _tsv(root / f"cardinal{_suffix(cased)}.tsv"):
        key = _decimal_key(written)
        if key is None:
            cls.excluded.append(Excluded(source, spoken, f"expected {written!r} is no number"))
        else:
            cls.cases.append(Case(source, spoken, frozenset([key]), cased))
    return cls


def _email(root: Path, cased: bool) -> EvalClass:
    cls = EvalClass(
        f"email{_suffix(cased)}", "capture_email", lambda v, p: _email_key(v), _email_key, 1.0
    )
    for source, spoken, written in _tsv(root / f"electronic{_suffix(cased)}.tsv"):
        if "@" not in written:
            cls.excluded.append(Excluded(source, spoken, "a URL or domain, not an email"))
        elif written.lower() == "dot 3@gmail.com":
            cls.excluded.append(Excluded(source, spoken, "NeMo keeps a stray word (README)"))
        else:
            cls.cases.append(Case(source, spoken, frozenset([_email_key(written) or ""]), cased))
    return cls


def _telephone(root: Path, cased: bool) -> tuple[EvalClass, EvalClass]:
    phone = EvalClass(f"phone{_suffix(cased)}", "capture_phone", _heard_digits, _digits_key, 1.0)
    codes = EvalClass(
        f"digits{_suffix(cased)}", "capture_digits", lambda v, p: _code_key(v), _code_key, None
    )
    for source, spoken, written in _tsv(root / f"telephone{_suffix(cased)}.tsv"):
        digits = re.sub(r"[^0-9]", "", written)
        if _PHONE_SURFACE.match(written) and len(digits) >= 7:
            phone.cases.append(Case(source, spoken, frozenset([_digits_key(written) or ""]), cased))
        elif re.fullmatch(r"[0-9.]+", written) and written.count(".") == 3:
            codes.excluded.append(Excluded(source, spoken, "an IP address: no primitive's value"))
        elif " display" in written.lower():
            codes.excluded.append(Excluded(source, spoken, "a code inside a phrase ('display')"))
        else:
            codes.cases.append(Case(source, spoken, frozenset([_code_key(written) or ""]), cased))
    return phone, codes


def _date(root: Path, cased: bool) -> EvalClass:
    cls = EvalClass(
        f"date{_suffix(cased)}",
        "capture_date",
        lambda v, p: v,
        date_iso,
        0.95,
        params={"reference_date": REFERENCE_DATE, "prefer": "future"},
        matches=date_matches,
    )
    for source, spoken, written in _tsv(root / f"date{_suffix(cased)}.tsv"):
        iso = date_iso(written)
        if iso is None:
            cls.excluded.append(Excluded(source, spoken, _date_reason(written)))
        else:
            cls.cases.append(Case(source, spoken, frozenset([iso]), cased))
    return cls


def date_matches(key: str | None, accepted: frozenset[str]) -> bool:
    """A yearless expectation (``--MM-DD``) matches any year: the year is the reference's."""
    if key is None:
        return not accepted
    return any(key == want or (want.startswith("--") and key[4:] == want[1:]) for want in accepted)


def _time(root: Path, cased: bool) -> EvalClass:
    cls = EvalClass(f"time{_suffix(cased)}", "capture_time", lambda v, p: v, _time_key, 0.95)
    for source, spoken, written in _tsv(root / f"time{_suffix(cased)}.tsv"):
        keys = time_keys(written)
        if keys is None:
            cls.excluded.append(Excluded(source, spoken, "no clock time in the expected value"))
        else:
            cls.cases.append(Case(source, spoken, keys, cased))
    return cls


def _recognizers(root: Path, model: str) -> list[EvalClass]:
    phone = model == "PhoneNumberModel"
    name, primitive = ("rt_phone", "capture_phone") if phone else ("rt_email", "capture_email")
    key_of: KeyOf = _rt_phone_keys if phone else (lambda v, p: _email_key(v))
    matches = rt_phone_matches if phone else _in
    supported = EvalClass(name, primitive, key_of, None, 0.95, matches=matches)
    unsupported = EvalClass(
        f"{name}_not_supported_py", primitive, key_of, None, None, matches=matches
    )
    normalise = rt_phone_accepted if phone else _email_key
    for line in (root / f"{model}.jsonl").read_text(encoding="utf-8").splitlines():
        spec = json.loads(line)
        source = f"recognizers/{model}.jsonl#{spec['idx']}"
        marks = f"{spec['not_supported'] or ''} {spec['not_supported_by_design'] or ''}"
        target = unsupported if "python" in marks else supported
        values = spec["expected_values"]
        if len(values) > 1:
            target.excluded.append(
                Excluded(source, spec["input"], "two values; a capture takes one")
            )
            continue
        accepted = frozenset(k for v in values if (k := normalise(v)) is not None)
        target.cases.append(Case(source, spec["input"], accepted))
    return [supported, unsupported]


_SAYS_A_NUMBER = re.compile(
    r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|fifty"
    r"|hundred|oh|o)\b",
    re.IGNORECASE,
)
_MONTH_WORD = re.compile(r"\b(?:" + "|".join(_MONTHS) + r")\b", re.IGNORECASE)
# Which files hold no value of a primitive, and which of their lines do say one anyway.
_NEGATIVES: dict[str, tuple[tuple[str, ...], re.Pattern[str] | None, str]] = {
    "capture_number": (("word", "whitelist"), _SAYS_A_NUMBER, "says a number"),
    "capture_time": (("word", "whitelist", "date"), _SAYS_A_NUMBER, "says a number"),
    "capture_date": (("word", "whitelist", "cardinal"), None, ""),
    "capture_phone": (("word", "whitelist", "cardinal"), None, ""),
    "capture_email": (("word", "whitelist", "telephone", "cardinal"), None, ""),
}


def _negatives(nemo: Path, primitive: str) -> EvalClass:
    """Lines that hold no value of ``primitive``: any value read from them is a false value."""
    files, says_value, reason = _NEGATIVES[primitive]
    cls = EvalClass(f"negatives:{primitive}", primitive, lambda v, p: v, None, None)
    cls.negative = True
    for stem in files:
        for cased in (False, True):
            for source, spoken, _ in _tsv(nemo / f"{stem}{_suffix(cased)}.tsv"):
                keep_dates = stem == "date" and _MONTH_WORD.search(spoken) is not None
                if stem == "date" and not keep_dates:
                    cls.excluded.append(Excluded(source, spoken, "a year can be a time"))
                elif stem != "date" and says_value is not None and says_value.search(spoken):
                    cls.excluded.append(Excluded(source, spoken, reason))
                else:
                    cls.cases.append(Case(source, spoken, frozenset(), cased))
    return cls


def load_classes(eval_dir: Path) -> list[EvalClass]:
    """Every scored class over ``eval_dir`` (main sets, then the ``_cased`` robustness sets)."""
    nemo, rt = eval_dir / "nemo_itn_en", eval_dir / "recognizers_text_en"
    classes: list[EvalClass] = []
    for cased in (False, True):
        phone, codes = _telephone(nemo, cased)
        classes += [_email(nemo, cased), phone, codes, _cardinal(nemo, cased)]
        classes += [_date(nemo, cased), _time(nemo, cased)]
    classes += _recognizers(rt, "EmailModel") + _recognizers(rt, "PhoneNumberModel")
    classes += [_negatives(nemo, primitive) for primitive in _NEGATIVES]
    return classes
