"""Template filters for the staff raters page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def p_value(value: Any) -> str:
    """A p-value as people read it: "< 0.001" below a thousandth, else three decimals."""
    if value is None:
        return "—"
    number = float(value)
    return "< 0.001" if number < 0.001 else f"{number:.3f}"
