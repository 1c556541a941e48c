"""Prompt categories as people mean them: one name for the spellings of one category.

Imported prompt sets spell a category many ways ("Google Sheet"/"Google Sheets", "Yelp"/"yelp")
and some rows carry junk (a URL) where a category belongs. ``category_key`` folds case,
punctuation, spacing and a plural ``s``; ``normalise_categories`` groups raw values under one
display name each (the most used spelling), drops junk, and lists the bundled sets' own
categories first in their published order. Pure: no Django.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

# The published categories of the bundled prompt sets, in their papers' order.
BUNDLED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "mt_bench": ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities"),
    "vicuna80": (
        "generic",
        "knowledge",
        "roleplay",
        "common-sense",
        "fermi",
        "counterfactual",
        "coding",
        "math",
        "writing",
    ),
}

_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://|www\.)\S*\s*$", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def is_junk(raw: str) -> bool:
    """A value that is no category: empty, only punctuation, a URL or an e-mail address."""
    text = raw.strip()
    return not _NOT_WORD.sub("", text.lower()) or bool(_URL.match(text)) or ("@" in text and " " not in text)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def category_key(raw: str) -> str:
    """The comparison key of a category: lower case, words split on any punctuation or space,
    each word singular ("Google Sheets" and "google-sheet" give "google sheet")."""
    return " ".join(_singular(word) for word in _NOT_WORD.split(raw.lower()) if word)


def normalise_categories(
    raw_counts: Mapping[str, int], *, bundled: Iterable[str] = (), mapping: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Group raw category values: ``{display name: [raw values]}``, ordered with the ``bundled``
    categories first (in their order), then the rest by name.

    ``mapping`` (raw -> canonical, an admin's choice) wins over the automatic folding; the display
    name of an automatic group is a bundled name when one matches, else its most used spelling
    (equally used: the first in code-point order, capitals before small letters).
    Junk values are left out.
    """
    mapping = mapping or {}
    bundled = list(bundled)
    bundled_by_key = {category_key(name): name for name in bundled}
    groups: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for raw, count in raw_counts.items():
        if raw in mapping:
            target = mapping[raw].strip()
            if not target:
                continue  # mapped to nothing: left out
            key = category_key(target)
            counts[key][target] += 10**12  # the admin's spelling names the group
        elif is_junk(raw):
            continue
        else:
            key = category_key(raw)
            counts[key][raw] += count
        groups[key].append(raw)
    named: dict[str, list[str]] = {}
    for key, members in groups.items():
        name = bundled_by_key.get(key) or min(counts[key].items(), key=lambda item: (-item[1], item[0]))[0]
        named[name] = sorted(members)
    first = [name for name in bundled if name in named]
    rest = sorted((name for name in named if name not in first), key=str.lower)
    return {name: named[name] for name in [*first, *rest]}
