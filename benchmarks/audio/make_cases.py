"""Writes benchmarks/audio/cases.jsonl: caller utterances with the value each one carries.

    python -m benchmarks.audio.make_cases

Seeded, so it writes the same file every time; the file is committed and the pipeline reads the
file, not this script. Each case is what a caller might say when asked for one value: a carrier
phrase ("yeah my email is"), fillers ("uh", "um"), the value in words as people say it (digit by
digit, "double five", "oh" for zero, "half past", "the third of may"), and the value the service
should return in ``data.value``. The words are written as a caller would say them, so a TTS voice
reads them as spoken, and the same text sent directly is the clean-text baseline.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from benchmarks.audio.cases import CASES_FILE, Case

__all__ = ["build", "main"]

SEED = 1713
PER_PRIMITIVE = 40
REFERENCE_DATE = "2026-01-15"

_ONES = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_ORDINALS = {
    1: "first",
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    6: "sixth",
    7: "seventh",
    8: "eighth",
    9: "ninth",
    10: "tenth",
    11: "eleventh",
    12: "twelfth",
    13: "thirteenth",
    14: "fourteenth",
    15: "fifteenth",
    16: "sixteenth",
    17: "seventeenth",
    18: "eighteenth",
    19: "nineteenth",
    20: "twentieth",
    30: "thirtieth",
}
_FIRST = (
    "james mary robert linda michael sarah david karen daniel laura kevin emily brian "
    "rachel steven nancy paul helen mark susan peter anna thomas julia george grace"
).split()
_LAST = (
    "smith johnson brown miller davis wilson moore taylor anderson thomas jackson white "
    "harris martin thompson walker young allen king wright hill green baker nelson carter"
).split()
_DOMAINS = [
    ("gmail.com", "gmail dot com"),
    ("yahoo.com", "yahoo dot com"),
    ("outlook.com", "outlook dot com"),
    ("hotmail.com", "hotmail dot com"),
    ("aol.com", "a o l dot com"),
    ("icloud.com", "icloud dot com"),
]
_AREA_CODES = ["415", "212", "617", "312", "206", "503", "720", "404", "305", "512", "646", "818"]
_FILLERS = ["", "", "", "uh ", "um ", "uh, ", "so ", "okay ", "yeah ", "oh "]


def _under_hundred(n: int) -> str:
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEENS[n - 10]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])


def words(n: int) -> str:
    """``n`` (0 <= n < 10**9) in words: "twelve thousand four hundred five"."""
    if n < 100:
        return _under_hundred(n)
    parts: list[str] = []
    for size, name in ((1_000_000, "million"), (1000, "thousand")):
        if n >= size:
            parts.append(f"{words(n // size)} {name}")
            n %= size
    if n >= 100:
        parts.append(f"{_ONES[n // 100]} hundred")
        n %= 100
    if n:
        parts.append(_under_hundred(n))
    return " ".join(parts)


def _ordinal(day: int) -> str:
    if day in _ORDINALS:
        return _ORDINALS[day]
    tens, ones = divmod(day, 10)
    return f"{_TENS[tens]} {_ORDINALS[ones]}"


def _year(year: int) -> str:
    return f"twenty {words(year - 2000)}" if year >= 2010 else f"two thousand {words(year - 2000)}"


def _digit_run(digits: str, rng: random.Random) -> str:
    """Digits one by one, as callers say them: sometimes "oh" for zero, "double" for a pair."""
    said: list[str] = []
    index = 0
    while index < len(digits):
        digit = digits[index]
        pair = index + 1 < len(digits) and digits[index + 1] == digit
        if pair and rng.random() < 0.4:
            said.append(f"double {_ONES[int(digit)]}")
            index += 2
            continue
        said.append("oh" if digit == "0" and rng.random() < 0.4 else _ONES[int(digit)])
        index += 1
    return " ".join(said)


def _say(rng: random.Random, carriers: list[str], value_words: str, tails: list[str]) -> str:
    return f"{rng.choice(_FILLERS)}{rng.choice(carriers)}{value_words}{rng.choice(tails)}".strip()


def _email(rng: random.Random) -> Case:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    domain, domain_said = rng.choice(_DOMAINS)
    shape = rng.randrange(4)
    if shape == 0:
        local, local_said = f"{first}.{last}", f"{first} dot {last}"
    elif shape == 1:
        number = rng.randrange(10, 99)
        local, local_said = f"{first}{number}", f"{first} {_digit_run(str(number), rng)}"
    elif shape == 2:
        local, local_said = f"{first[0]}{last}", f"{first[0]} {last}"
    else:
        local, local_said = f"{first}_{last}", f"{first} underscore {last}"
    carriers = [
        "my email is ",
        "yeah my email is ",
        "it's ",
        "it's uh ",
        "sure, it's ",
        "the email address is ",
        "you can reach me at ",
        "",
    ]
    text = _say(rng, carriers, f"{local_said} at {domain_said}", ["", "", " thanks"])
    return Case("", "capture_email", text, f"{local}@{domain}")


def _phone(rng: random.Random) -> Case:
    area = rng.choice(_AREA_CODES)
    exchange = f"{rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}"
    if exchange[1:] == "11":
        exchange = exchange[0] + "21"
    line = f"{rng.randrange(10000):04d}"
    carriers = [
        "my number is ",
        "yeah it's ",
        "it's uh ",
        "you can call me at ",
        "the best number is ",
        "my cell is ",
        "",
    ]
    groups = [_digit_run(part, rng) for part in (area, exchange, line)]
    joiner = rng.choice([" ", ", "])
    text = _say(rng, carriers, joiner.join(groups), ["", "", " thank you"])
    return Case("", "capture_phone", text, f"+1{area}{exchange}{line}")


def _date(rng: random.Random) -> Case:
    year = rng.choice([2025, 2026, 2026, 2027])
    month = rng.randrange(1, 13)
    day = rng.randrange(1, 29)
    shape = rng.randrange(3)
    if shape == 0:
        said = f"{_MONTHS[month - 1]} {_ordinal(day)} {_year(year)}"
    elif shape == 1:
        said = f"the {_ordinal(day)} of {_MONTHS[month - 1]} {_year(year)}"
    else:
        said = f"{_MONTHS[month - 1]} {_ordinal(day)}, {_year(year)}"
    carriers = [
        "it's ",
        "um, ",
        "that would be ",
        "let's do ",
        "i was born on ",
        "the appointment is on ",
        "",
    ]
    text = _say(rng, carriers, said, ["", "", " please"])
    return Case(
        "",
        "capture_date",
        text,
        f"{year:04d}-{month:02d}-{day:02d}",
        {"reference_date": REFERENCE_DATE},
    )


def _time(rng: random.Random) -> Case:
    afternoon = rng.random() < 0.5
    hour12 = rng.randrange(1, 13) if afternoon else rng.randrange(1, 12)
    minute = rng.choice([0, 0, 15, 30, 45, 10, 20, 40, 5, 50])
    hour24 = hour12 % 12 + (12 if afternoon else 0)
    if afternoon:
        part = "in the afternoon" if hour24 < 18 else "in the evening"
    else:
        part = "in the morning"
    if minute in (15, 30) and rng.random() < 0.5:
        lead = "quarter past" if minute == 15 else "half past"
        said = f"{lead} {words(hour12)} {part}"
    else:
        if minute == 0:
            minutes = rng.choice(["", " o'clock"])
        elif minute < 10:
            minutes = f" oh {_ONES[minute]}"
        else:
            minutes = f" {words(minute)}"
        meridiem = rng.choice(["p m" if afternoon else "a m", part])
        said = f"{words(hour12)}{minutes} {meridiem}"
    carriers = ["", "let's say ", "how about ", "uh ", "maybe ", "i'd like ", "around "]
    text = _say(rng, carriers, said, ["", "", " if that works"])
    return Case("", "capture_time", text, f"{hour24:02d}:{minute:02d}")


def _number(rng: random.Random) -> Case:
    shape = rng.randrange(5)
    if shape == 0:
        value = rng.randrange(2, 100)
    elif shape == 1:
        value = rng.randrange(1, 10) * 100 + rng.choice([0, 0, 25, 50, 75])
    elif shape == 2:
        value = rng.randrange(1, 60) * 1000 + rng.choice([0, 0, 500, 250])
    elif shape == 3:
        value = rng.randrange(11, 20) * 100
    else:
        value = rng.randrange(100, 1000)
    said = words(value)
    if shape == 3 and rng.random() < 0.6:
        said = f"{words(value // 100)} hundred"
    carriers = [
        "",
        "about ",
        "it's ",
        "i think it's ",
        "we need ",
        "um, maybe ",
        "let's go with ",
        "exactly ",
    ]
    text = _say(rng, carriers, said, ["", "", " please"])
    return Case("", "capture_number", text, str(value))


def _digits(rng: random.Random) -> Case:
    length = rng.choice([4, 5, 5, 6, 6, 8])
    code = "".join(str(rng.randrange(10)) for _ in range(length))
    kind = rng.choice(
        [
            "my zip code is ",
            "the code is ",
            "it's ",
            "my account number is ",
            "the order number is ",
            "pin is ",
            "",
        ]
    )
    text = _say(rng, [kind], _digit_run(code, rng), ["", "", " i think"])
    return Case(
        "",
        "capture_digits",
        text,
        code,
        {"min_length": length, "max_length": length},
    )


def _name(rng: random.Random) -> Case:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    full = rng.random() < 0.75
    said = f"{first} {last}" if full else first
    value = f"{first.capitalize()} {last.capitalize()}" if full else first.capitalize()
    carriers = [
        "my name is ",
        "it's ",
        "this is ",
        "yeah, it's ",
        "i'm ",
        "uh, ",
        "",
    ]
    text = _say(rng, carriers, said, ["", "", " speaking"] if full else ["", ""])
    return Case("", "capture_name", text, value)


def _confirm(rng: random.Random) -> Case:
    yes = rng.random() < 0.55
    said = rng.choice(
        [
            "yes",
            "yeah that's right",
            "yes it is",
            "correct",
            "yep",
            "that's correct",
            "sure, yes",
            "uh huh, that's it",
        ]
        if yes
        else [
            "no",
            "no that's wrong",
            "nope",
            "no, that's not it",
            "that's not right",
            "incorrect",
            "no it isn't",
        ]
    )
    return Case("", "confirm", said, "yes" if yes else "no")


_MAKERS: dict[str, Callable[[random.Random], Case]] = {
    "capture_email": _email,
    "capture_phone": _phone,
    "capture_date": _date,
    "capture_time": _time,
    "capture_number": _number,
    "capture_digits": _digits,
    "capture_name": _name,
    "confirm": _confirm,
}


def build(seed: int = SEED, per_primitive: int = PER_PRIMITIVE) -> list[Case]:
    """The cases, ``per_primitive`` of each primitive, interleaved, with stable ids."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for index in range(per_primitive):
        for primitive, make in _MAKERS.items():
            case = make(rng)
            short = primitive.removeprefix("capture_")
            cases.append(
                Case(f"{short}-{index:03d}", primitive, case.text, case.value, case.params)
            )
    return cases


def main() -> None:
    lines = [json.dumps(case.to_json(), sort_keys=True) for case in build()]
    Path(CASES_FILE).write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} cases to {CASES_FILE}")


if __name__ == "__main__":
    main()
