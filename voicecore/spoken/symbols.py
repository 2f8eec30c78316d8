"""Symbols as callers say them: "dot", "at", "underscore", "dash", "plus", "slash"."""

from __future__ import annotations

__all__ = ["SYMBOL_NAMES", "spoken_symbol"]

_PHRASES: dict[tuple[str, ...], str] = {
    ("dot",): ".",
    ("period",): ".",
    ("point",): ".",
    ("full", "stop"): ".",
    ("at",): "@",
    ("@",): "@",
    ("at", "sign"): "@",
    ("at", "symbol"): "@",
    ("at", "the", "rate"): "@",
    ("at", "the", "rate", "of"): "@",
    ("underscore",): "_",
    ("under", "score"): "_",
    ("under-score",): "_",
    ("dash",): "-",
    ("hyphen",): "-",
    ("minus",): "-",
    ("plus",): "+",
    ("plus", "sign"): "+",
    ("slash",): "/",
    ("forward", "slash"): "/",
    ("colon",): ":",
    ("apostrophe",): "'",
}
_LONGEST = max(len(phrase) for phrase in _PHRASES)

SYMBOL_NAMES: dict[str, str] = {
    ".": "dot",
    "@": "at",
    "_": "underscore",
    "-": "dash",
    "+": "plus",
    "/": "slash",
    ":": "colon",
    "'": "apostrophe",
}
"""How to say each symbol back."""


def spoken_symbol(tokens: list[str], index: int) -> tuple[str, int]:
    """The symbol said at ``index`` and how many tokens it takes; ("", 0) if none."""
    for length in range(min(_LONGEST, len(tokens) - index), 0, -1):
        symbol = _PHRASES.get(tuple(tokens[index : index + length]))
        if symbol is not None:
            return symbol, length
    return "", 0
