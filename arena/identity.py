"""Spotting answers that reveal which model wrote them ("As ChatGPT…", "I am Vicuna").

Pure: no Django. Such answers would unblind a human comparison, so they are flagged at import
and left out of human comparisons by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=16)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = [re.escape(w.strip().lower()) for w in words if w.strip()]
    if not cleaned:
        return None
    # Word boundaries so "palm" does not match "napalm" and "mpt" does not match "attempt".
    return re.compile(r"(?<![\w-])(" + "|".join(sorted(cleaned, key=len, reverse=True)) + r")(?![\w])", re.IGNORECASE)


def identity_mentions(text: str, words: Iterable[str]) -> list[str]:
    """The identity words found in ``text``, lower-cased, in order of first appearance."""
    pattern = _pattern(tuple(words))
    if pattern is None:
        return []
    seen: list[str] = []
    for match in pattern.finditer(text):
        word = match.group(1).lower()
        if word not in seen:
            seen.append(word)
    return seen
