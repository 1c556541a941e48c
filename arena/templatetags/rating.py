"""Template filters for the rating pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def field(verdict: Any, name: str) -> str:
    """``verdict``'s value of ``name`` ("" without a verdict): ``{{ initial|field:"helpful" }}``,
    for forms built from rows of field names."""
    return str(getattr(verdict, name, "") or "") if verdict is not None else ""


@register.filter(is_safe=True)
def scrollable_code(html: str) -> SafeString:
    """Sanitised model HTML with its code blocks reachable by keyboard: a long line scrolls inside
    its block, and a scrolling region must take focus to be scrolled without a mouse. The
    sanitiser leaves ``<pre>`` without attributes, so the plain tag is all there is to match."""
    return mark_safe(str(html).replace("<pre>", '<pre tabindex="0">'))  # noqa: S308 - input is sanitised HTML
