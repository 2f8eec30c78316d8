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

from benchmarks.audio.cases import CASES_FILE, Case, card_value

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


def _cents_pair(cents: int) -> str:
    """The two figures after the whole units of a price: "oh five", "fifty"."""
    return f"oh {_ONES[cents]}" if cents < 10 else words(cents)


def _amount(rng: random.Random) -> Case:
    shape = rng.randrange(7)
    if shape == 0:  # a price in two groups: "twelve fifty"
        whole, cents = rng.randrange(2, 100), rng.choice([25, 50, 75, 95, 99, 10, 40, 5])
        said = f"{words(whole)} {_cents_pair(cents)}"
    elif shape == 1:  # "a hundred and five dollars and ten cents"
        whole, cents = rng.randrange(100, 1000), rng.randrange(1, 100)
        hundreds, rest = divmod(whole, 100)
        lead = "a hundred" if hundreds == 1 and rng.random() < 0.6 else f"{_ONES[hundreds]} hundred"
        said = f"{lead}{f' and {words(rest)}' if rest else ''} dollars and {words(cents)} cents"
    elif shape == 2:  # whole dollars, sometimes "bucks"
        whole, cents = rng.randrange(5, 500), 0
        said = f"{words(whole)} {rng.choice(['dollars', 'dollars', 'bucks'])}"
    elif shape == 3:  # "fifteen dollars and ninety nine cents", "twelve dollars fifty"
        whole, cents = rng.randrange(2, 100), rng.randrange(10, 100)
        joiner = rng.choice([" and ", " "])
        tail = rng.choice([" cents", ""]) if joiner == " " else " cents"
        said = f"{words(whole)} dollars{joiner}{words(cents)}{tail}"
    elif shape == 4:  # cents only
        whole, cents = 0, rng.randrange(10, 100)
        said = f"{words(cents)} cents"
    elif shape == 5:  # thousands: "two thousand five hundred dollars", "twelve hundred dollars"
        whole, cents = rng.randrange(11, 60) * 100, 0
        if whole % 1000 and whole < 2000 and rng.random() < 0.6:
            said = f"{words(whole // 100)} hundred dollars"
        else:
            said = f"{words(whole)} dollars"
    else:  # a bare number: the currency is the application's
        whole, cents = rng.randrange(20, 1000), 0
        said = words(whole)
    carriers = [
        "",
        "it's ",
        "the total is ",
        "i'd like to pay ",
        "um, ",
        "let's do ",
        "put down ",
        "the amount is ",
        "i can pay ",
    ]
    text = _say(rng, carriers, said, ["", "", " please", " today"])
    return Case("", "capture_amount", text, f"{whole}.{cents:02d}")


# Option sets a caller is offered: (id, label, synonyms) each, and what callers call them.
_CHOICES: list[list[tuple[str, str, list[str]]]] = [
    [
        ("small", "small", ["little", "kids size"]),
        ("medium", "medium", ["regular"]),
        ("large", "large", ["big", "extra big"]),
    ],
    [
        ("billing", "billing", ["my bill", "payments"]),
        ("support", "technical support", ["tech support", "help with my internet"]),
        ("sales", "sales", ["buy something", "new service"]),
    ],
    [
        ("standard", "standard shipping", ["regular shipping"]),
        ("express", "express shipping", ["two day"]),
        ("overnight", "overnight", ["next day"]),
    ],
    [
        ("morning", "morning", ["before noon"]),
        ("afternoon", "afternoon", ["after lunch"]),
        ("evening", "evening", ["after work"]),
    ],
    [
        ("coffee", "coffee", []),
        ("tea", "tea", ["green tea"]),
        ("juice", "orange juice", ["o j"]),
        ("water", "water", ["sparkling water"]),
    ],
    [
        ("checking", "checking account", ["checking"]),
        ("savings", "savings account", ["savings"]),
    ],
    [
        ("red", "red", []),
        ("blue", "blue", ["navy"]),
        ("green", "green", []),
        ("black", "black", []),
    ],
]
_PLACES = ["first", "second", "third", "fourth"]
#: Option sets (by their first id) whose labels take no article.
_BARE = frozenset({"billing"})


def _choice(rng: random.Random) -> Case:
    offered = rng.choice(_CHOICES)
    index = rng.randrange(len(offered))
    option_id, label, synonyms = offered[index]
    shape = rng.randrange(4)
    # "the large", "the morning"; but "billing", "technical support" are said bare, as are
    # the synonyms ("my bill", "next day").
    article = ["", "the "] if offered[0][0] not in _BARE else [""]
    if shape == 1 and synonyms:
        said = rng.choice(synonyms)
    elif shape == 2:  # by place
        if index == len(offered) - 1 and rng.random() < 0.5:
            said = rng.choice(["the last one", "the last option"])
        else:
            said = rng.choice([f"the {_PLACES[index]} one", f"number {_ONES[index + 1]}"])
    else:
        said = rng.choice(article) + label
    carriers = ["", "i'll take ", "uh ", "i want ", "let's go with ", "i'd like ", "um, "]
    text = _say(rng, carriers, said, ["", "", " please"])
    options = [
        {"id": oid, "label": olabel, "synonyms": osynonyms} for oid, olabel, osynonyms in offered
    ]
    return Case("", "capture_choice", text, option_id, {"options": options})


# Streets (said, postal), suffixes (said, postal), units and places with their ZIP codes.
_STREETS = [
    ("main", "Main"),
    ("oak", "Oak"),
    ("maple", "Maple"),
    ("elm", "Elm"),
    ("park", "Park"),
    ("washington", "Washington"),
    ("lake", "Lake"),
    ("cedar", "Cedar"),
    ("pine", "Pine"),
    ("lincoln", "Lincoln"),
    ("hill", "Hill"),
    ("forty second", "42nd"),
    ("third", "3rd"),
]
_SUFFIXES = [
    ("street", "St"),
    ("avenue", "Ave"),
    ("road", "Rd"),
    ("drive", "Dr"),
    ("lane", "Ln"),
    ("boulevard", "Blvd"),
    ("court", "Ct"),
    ("way", "Way"),
    ("place", "Pl"),
]
_DIRECTIONS = [("north", "N"), ("south", "S"), ("east", "E"), ("west", "W")]
_PLACES_ZIP = [
    ("springfield", "illinois", "Springfield", "IL", "62704"),
    ("san francisco", "california", "San Francisco", "CA", "94107"),
    ("austin", "texas", "Austin", "TX", "78701"),
    ("seattle", "washington", "Seattle", "WA", "98101"),
    ("denver", "colorado", "Denver", "CO", "80202"),
    ("portland", "oregon", "Portland", "OR", "97205"),
    ("boston", "massachusetts", "Boston", "MA", "02108"),
    ("chicago", "illinois", "Chicago", "IL", "60614"),
    ("miami", "florida", "Miami", "FL", "33130"),
    ("phoenix", "arizona", "Phoenix", "AZ", "85004"),
    ("columbus", "ohio", "Columbus", "OH", "43215"),
    ("atlanta", "georgia", "Atlanta", "GA", "30303"),
    ("nashville", "tennessee", "Nashville", "TN", "37203"),
    ("madison", "wisconsin", "Madison", "WI", "53703"),
]


def _house_said(number: int, rng: random.Random) -> str:
    """A house number as people say it: "one twenty three", "twenty one oh five", "fifteen
    hundred", or figure by figure."""
    if number < 100:
        return words(number)
    if rng.random() < 0.2:
        return _digit_run(str(number), rng)
    head, pair = divmod(number, 100)
    if pair == 0:
        return f"{words(head)} hundred"
    return f"{words(head)} {_cents_pair(pair)}"


def _address(rng: random.Random) -> Case:
    shape = rng.randrange(3)
    number = (rng.randrange(1, 100), rng.randrange(100, 1000), rng.randrange(1000, 9999))[shape]
    street_said, street = rng.choice(_STREETS)
    suffix_said, suffix = rng.choice(_SUFFIXES)
    said = f"{_house_said(number, rng)} "
    postal = f"{number} "
    if rng.random() < 0.2:
        direction_said, direction = rng.choice(_DIRECTIONS)
        said += f"{direction_said} "
        postal += f"{direction} "
    said += f"{street_said} {suffix_said}"
    postal += f"{street} {suffix}"
    unit_shape = rng.randrange(5)
    if unit_shape == 0:
        floor, letter = rng.randrange(1, 10), rng.choice("abcd")
        said += f" apartment {_ONES[floor]} {letter}"
        postal += f" Apt {floor}{letter.upper()}"
    elif unit_shape == 1:
        suite = rng.choice([100, 200, 210, 300, 450])
        said += f" suite {words(suite)}"
        postal += f" Ste {suite}"
    elif unit_shape == 2:
        unit = rng.randrange(2, 20)
        said += f" unit {words(unit)}"
        postal += f" Unit {unit}"
    city_said, state_said, city, state, zip_code = rng.choice(_PLACES_ZIP)
    comma = rng.choice([", ", " "])
    said += f"{comma}{city_said} {state_said} {_digit_run(zip_code, rng)}"
    postal += f", {city}, {state} {zip_code}"
    carriers = [
        "",
        "it's ",
        "i live at ",
        "my address is ",
        "uh ",
        "sure, it's ",
        "the address is ",
    ]
    text = _say(rng, carriers, said, ["", "", " thanks"])
    return Case("", "capture_address", text, postal)


def _luhn_completed(body: str) -> str:
    """``body`` with the check digit that makes it pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (1 if index % 2 else 2)
        total += digit - 9 if digit > 9 else digit
    return body + str(-total % 10)


# Synthetic card numbers: random digits in the Visa, Mastercard and American Express IIN ranges
# with a Luhn check digit, made up for this benchmark (no real card's, by design; their digits in
# cases.jsonl and transcripts.jsonl are test data, never a caller's). (prefix, length, groups,
# CVV length) each.
_CARD_SHAPES = [
    ("4", 16, (4, 4, 4, 4), 3),
    ("4", 16, (4, 4, 4, 4), 3),
    ("5", 16, (4, 4, 4, 4), 3),
    ("2", 16, (4, 4, 4, 4), 3),
    ("3", 15, (4, 6, 5), 4),
]


def _card_number(rng: random.Random, prefix: str, length: int) -> str:
    if prefix == "5":
        prefix = str(rng.randrange(51, 56))
    elif prefix == "2":
        prefix = str(rng.randrange(2221, 2721))
    elif prefix == "3":
        prefix = rng.choice(["34", "37"])
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return _luhn_completed(body)


def _card(rng: random.Random) -> Case:
    prefix, length, groups, cvv_length = rng.choice(_CARD_SHAPES)
    number = _card_number(rng, prefix, length)
    said_groups, start = [], 0
    for size in groups:
        said_groups.append(_digit_run(number[start : start + size], rng))
        start += size
    month, year = rng.randrange(1, 13), rng.randrange(2027, 2032)
    if rng.random() < 0.5:
        expiry_said = f"{_digit_run(f'{month:02d}', rng)} {words(year - 2000)}"
    else:
        expiry_said = f"{_MONTHS[month - 1]} {words(year - 2000)}"
    with_cvv = rng.random() < 0.75
    cvv = "".join(str(rng.randrange(10)) for _ in range(cvv_length)) if with_cvv else ""
    lead = rng.choice(["", "", "it's ", "the card number is ", "okay it's ", "card number "])
    text = f"{rng.choice(_FILLERS)}{lead}{', '.join(said_groups)}"
    text += rng.choice([", expires ", " expiration ", ", expiry date ", ", valid through "])
    text += expiry_said
    if with_cvv:
        label = rng.choice(["security code", "the security code is", "cvv", "and the cvv is"])
        text += f", {label} {_digit_run(cvv, rng)}"
    params: dict[str, object] = {
        "reference_date": REFERENCE_DATE,
        # The digits are shown only in the response that completes a card capture: so one
        # turn completes it, and the turn's value (number, expiry, CVV) is scored.
        "require_confirmation": False,
    }
    if not with_cvv:
        params["require_cvv"] = False
    expiry = f"{month:02d}/{year % 100:02d}"
    return Case("", "capture_card", text.strip(), card_value(number, expiry, cvv), params)


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
#: Primitives added after the first eight: each draws from a random stream of its own, seeded
#: by its name, so adding them left the first eight's cases (and their transcripts) unchanged.
_LATER_MAKERS: dict[str, Callable[[random.Random], Case]] = {
    "capture_amount": _amount,
    "capture_choice": _choice,
    "capture_address": _address,
    "capture_card": _card,
}


def build(seed: int = SEED, per_primitive: int = PER_PRIMITIVE) -> list[Case]:
    """The cases, ``per_primitive`` of each primitive, interleaved, with stable ids."""
    rng = random.Random(seed)
    streams = {primitive: random.Random(f"{seed}:{primitive}") for primitive in _LATER_MAKERS}
    cases: list[Case] = []
    for makers, stream in ((_MAKERS, None), (_LATER_MAKERS, streams)):
        for index in range(per_primitive):
            for primitive, make in makers.items():
                case = make(rng if stream is None else stream[primitive])
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
