"""Rendering untrusted model text (prompts and answers) as safe HTML.

Pure: no Django. Two layers, because either alone has been bypassed in the wild:

1. markdown-it-py renders CommonMark with raw HTML switched *off*, so ``<script>`` in an answer
   becomes visible text, and its link validator refuses ``javascript:``/``vbscript:``/``file:``/
   ``data:`` targets.
2. nh3 (ammonia) then keeps only an allow-list of tags and attributes and only http(s)/mailto
   links, so whatever markdown-it lets through (now or after an upgrade) is still cleaned.

Emphasis with ``*`` never starts or ends inside a word (CommonMark already holds ``_`` to this):
model answers are full of arithmetic such as ``A = pi*r^2 ... pi*(sqrt(5))^2``, which plain
CommonMark turns into italics with the asterisks gone — raters would read other text than the
judge did. ``*word*`` and ``**bold**`` between spaces or punctuation work as before.

Images are never loaded: an image in model text could beacon to a remote host the moment a rater
opens the page, so each one is rendered as its alt text in brackets. Links get
``rel="noopener noreferrer nofollow"``. Bidirectional overrides and zero-width characters are
removed, so text cannot visually reorder itself. This does not by itself keep a word from the
identity filter (a soft hyphen, an entity, emphasis or a look-alike letter would still split or
disguise it): ``arena.identity`` reads the text of this HTML, then folds those away itself.
Inline styles are dropped too: the Content-Security-Policy would refuse them anyway.

Prompts and answers keep their HTML beside their text (``rendered_turns`` at write time): a rating
page then shows stored HTML instead of parsing markdown on every request. The stored HTML carries
the key of the text and renderer it came from (``turns_key``), and ``turns_html`` re-renders
whenever that key no longer matches, so an edit that bypassed the write path or a change to the
renderer (bump ``RENDERER_VERSION``) can never show stale HTML.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:  # markdown-it loads with the first rendering, not at every command's start
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererProtocol
    from markdown_it.rules_inline.state_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "blockquote",
        "pre",
        "code",
        "em",
        "strong",
        "del",
        "s",
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
        "a",
        "span",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "span": {"class"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Bump whenever the rendering or the allow-list changes: stored HTML from before stops matching.
# 2: "*" no longer opens or closes emphasis inside a word.
RENDERER_VERSION = 2
# Bidi embeddings/overrides/isolates, zero-width characters, word joiner, BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _render_image(
    renderer: RendererProtocol, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    alt = "".join(child.content for child in (tokens[idx].children or []))
    return f'<span class="md-image">[image: {escape(alt or "no description")}]</span>'


def _emphasis_between_words(state: StateInline, silent: bool) -> bool:
    """markdown-it's emphasis tokenizer, with ``*`` held to ``_``'s rule: a run of markers with
    a letter or digit on both sides (``pi*r``) can neither open nor close emphasis."""
    from markdown_it.rules_inline.state_inline import Delimiter

    marker = state.src[state.pos]
    if silent or marker not in ("_", "*"):
        return False
    scanned = state.scanDelims(state.pos, False)  # False: markers may not split a word
    for _ in range(scanned.length):
        token = state.push("text", "", 0)
        token.content = marker
        state.delimiters.append(
            Delimiter(
                marker=ord(marker),
                length=scanned.length,
                token=len(state.tokens) - 1,
                end=-1,
                open=scanned.can_open,
                close=scanned.can_close,
            )
        )
    state.pos += scanned.length
    return True


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # "breaks": model output uses single newlines as line breaks, not as soft wraps.
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.inline.ruler.at("emphasis", _emphasis_between_words)
    md.add_render_rule("image", _render_image)
    return md


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "span" and attribute == "class":
        return value if value == "md-image" else None
    return value


def clean_html(html: str) -> str:
    """Sanitise HTML with Arena's allow-list (also usable on HTML from elsewhere)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_attribute_filter,
    )


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Untrusted markdown → sanitised HTML, safe to mark as safe in a template.

    Cached by text: the same answer is rendered for the vote form and again for the reveal."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", text)
    return clean_html(_parser().render(text))


def turns_key(turns: Sequence[str]) -> str:
    """What stored HTML must have been rendered from: these texts, by this renderer version."""
    payload = json.dumps([RENDERER_VERSION, list(turns)], ensure_ascii=False).encode()
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def rendered_turns(turns: Sequence[str]) -> dict[str, object]:
    """The value to store beside ``turns``: their sanitised HTML and the key it was made from."""
    return {"key": turns_key(turns), "html": [render_markdown(text) for text in turns]}


def stored_html(turns: Sequence[str], rendered: object) -> list[str] | None:
    """The HTML in a stored ``rendered_turns`` value if it was made from exactly these texts by
    this renderer (and has one string per turn), else None."""
    if isinstance(rendered, dict) and rendered.get("key") == turns_key(turns):
        html = rendered.get("html")
        if isinstance(html, list) and len(html) == len(turns) and all(isinstance(h, str) for h in html):
            return html
    return None


def turns_html(turns: Sequence[str], rendered: object) -> list[str]:
    """``turns`` as sanitised HTML: the stored HTML while it is current, else rendered now."""
    html = stored_html(turns, rendered)
    return html if html is not None else [render_markdown(text) for text in turns]
