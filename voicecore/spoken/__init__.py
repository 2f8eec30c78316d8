"""Spoken-form parsing shared by the capture primitives.

ASR text arrives lower-case and unpunctuated ("john dot smith at gmail dot com"), or already
formatted ("john.smith@gmail.com", "415-555-2671"), or anything in between. The modules here
turn it into tokens (``tokens``), letters (``letters``), symbols (``symbols``) and digit strings
(``digits``); the primitives combine them. The number words live in ``number_words``;
``numbers`` reads quantities with them.
"""

from __future__ import annotations

__all__: list[str] = []
