"""Spotting answers that reveal which model wrote them ("As ChatGPT…", "I am Vicuna").

Pure: no Django. Such answers would unblind a human comparison, so they are flagged at import
and left out of human comparisons by default.

The words are looked for in the text *as the rater sees it*, not in the markdown source: a
filter on the source was passed by ``Chat\\u200bGPT``, ``Chat&#71;PT``, ``Chat**GPT**``, soft hyphens
and Cyrillic look-alikes, all of which a rater reads as "ChatGPT". So the text is

1. rendered exactly as the rating page renders it (``arena.markdown``): emphasis, links and
   entities become what they display, invisible characters are dropped;
2. reduced to the text of that HTML, entities decoded, blocks kept apart (``<p>Chat</p><p>GPT</p>``
   is two words on the page, and stays two);
3. NFKC-normalised (fullwidth and mathematical letters, ligatures, superscripts);
4. stripped of every format character (Unicode category Cf: soft hyphen, zero-width joiners,
   bidi controls, …);
5. rid of emphasis markers left literal inside a word (``Chat**GPT**`` renders as written, and
   still reads as "ChatGPT");
6. folded to ASCII look-alikes with Unicode's confusables table (UTS #39, as shipped by the
   ``confusable-homoglyphs`` package): Cyrillic Es (U+0421), Greek omicron (U+03BF) and Cherokee
   Tli (U+13DF) become ``C``, ``o`` and ``C``.

Only characters outside ASCII are folded, so ordinary English text reads exactly as before and a
word is only flagged when it is really there for the rater to read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from html.parser import HTMLParser

from arena.markdown import render_markdown

# Elements that start a new line on the page: their text never runs into the next one's.
_BLOCKS = frozenset(
    {
        "p",
        "br",
        "hr",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """The text a browser shows for ``html``, entities decoded, one line per block."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


@cache
def _ascii_look_alike(char: str) -> str:
    """An ASCII character ``char`` is confusable with (Unicode's table), else ``char`` itself."""
    # Imported here: loading the table is slow (PERFORMANCE.md), and every command would pay it at start.
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(char, greedy=True, preferred_aliases=[])
    for entry in found or ():
        for homoglyph in entry["homoglyphs"]:
            if len(homoglyph["c"]) == 1 and homoglyph["c"].isascii() and homoglyph["c"].isprintable():
                return str(homoglyph["c"])
    return char


def normalised(text: str) -> str:
    """``text`` (plain text) NFKC-normalised, without format characters, look-alikes folded."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        char if char.isascii() else _ascii_look_alike(char)
        for char in text
        if char.isascii() or unicodedata.category(char) != "Cf"
    )


# Emphasis markers the renderer leaves literal inside a word (``Chat**GPT**`` is not emphasis:
# ``pi*r^2`` must read as written), which the eye skips over when reading the word.
_MARKERS_IN_WORD = re.compile(r"(?<=\w)[*_~]+(?=\w)")


def seen_text(markdown: str) -> str:
    """What a rater reads of ``markdown`` on the rating page, normalised for matching words."""
    return _MARKERS_IN_WORD.sub("", normalised(html_text(render_markdown(markdown))))


@lru_cache(maxsize=16)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = [re.escape(normalised(w.strip()).lower()) for w in words if w.strip()]
    if not cleaned:
        return None
    # Word boundaries so "palm" does not match "napalm" and "mpt" does not match "attempt".
    return re.compile(
        r"(?<![\w-])(" + "|".join(sorted(cleaned, key=len, reverse=True)) + r")(?![\w])", re.IGNORECASE
    )


def reveals_identity(turns: Iterable[str], words: Iterable[str]) -> bool:
    """Does a rater read any of ``words`` in any of ``turns``?"""
    words = tuple(words)
    return any(identity_mentions(text, words) for text in turns)


def identity_mentions(text: str, words: Iterable[str]) -> list[str]:
    """The identity words a rater would read in the markdown ``text``, lower-cased, in order of
    first appearance."""
    pattern = _pattern(tuple(words))
    if pattern is None:
        return []
    seen: list[str] = []
    for match in pattern.finditer(seen_text(text)):
        word = match.group(1).lower()
        if word not in seen:
            seen.append(word)
    return seen
