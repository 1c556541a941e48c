"""Server-rendered SVG plots: ratings with their intervals, the win-rate heat map, bars for the
bias and agreement reports, stacked bars for grade distributions.

Pure: strings in, an SVG string out, no Django. No CDN and no scripts; colours are presentation
attributes (the Content-Security-Policy forbids inline ``style``). Every chart carries a
``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``) and every mark its own
``<title>`` so screen readers and hover show the numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_ids = itertools.count(1)

FONT = 'font-family="system-ui, sans-serif" font-size="12"'
INK = "#1d2330"
MUTED = "#5b6475"
LINE = "#dde1e8"
ACCENT = "#2f5bd3"
GRADE_COLOURS = {
    "A": "#1f8a4c",
    "B": "#8cc084",
    "C": "#f0b44c",
    "D": "#b3261e",
    # HHH shares: won, "the same", lost
    "won": "#1f8a4c",
    "same": "#c9ced8",
    "lost": "#b3261e",
}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _open(width: float, height: float, title: str, desc: str, css_class: str) -> tuple[str, str]:
    uid = next(_ids)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="svg-title-{uid} svg-desc-{uid}" {FONT}>'
        f'<title id="svg-title-{uid}">{escape(title)}</title><desc id="svg-desc-{uid}">{escape(desc)}</desc>'
    )
    return head, "</svg>"


# Label widths are estimated, not measured (no fonts on the server): 12 px system-ui averages
# under 7 px a character. A label longer than its room is shortened in the middle ("…") and
# carries the full name in a <title>, shown on hover and read by screen readers.
CHAR_W = 7.0
MAX_LABEL_CHARS = 30


def _text_width(text: str) -> float:
    return len(text) * CHAR_W


def _short(text: str, chars: int) -> str:
    """``text`` cut in the middle to ``chars`` characters (the ends tell model versions apart)."""
    if len(text) <= chars:
        return text
    head = (chars - 1) // 2
    return f"{text[:head]}…{text[len(text) - (chars - 1 - head) :]}"


def _label(text: str, chars: int, attrs: str) -> str:
    """A ``<text>`` of ``text`` shortened to ``chars``, with the full text in its ``<title>``
    whenever it was shortened."""
    shown = _short(text, chars)
    title = f"<title>{escape(text)}</title>" if shown != text else ""
    return f"<text {attrs}>{title}{escape(shown)}</text>"


def _label_room(names: Sequence[str], extra: str = "", minimum: float = 80.0) -> tuple[float, int]:
    """(pixels, characters) for a column of labels: as wide as the longest, at most
    ``MAX_LABEL_CHARS`` characters."""
    chars = min(MAX_LABEL_CHARS, max((len(f"{extra}{n}") for n in names), default=1))
    return max(minimum, chars * CHAR_W + 12), chars


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def empty_chart(title: str, message: str) -> str:
    head, tail = _open(360, 40, title, message, "empty")
    return f'{head}<text x="8" y="24" fill="{MUTED}">{escape(message)}</text>{tail}'


def ratings_chart(
    rows: Sequence[Mapping[str, Any]], *, title: str = "Ratings with confidence intervals", width: int = 720
) -> str:
    """One line per model in rank order: a dot at the rating and a bar from ``ci_low`` to
    ``ci_high``."""
    if not rows:
        return empty_chart(title, "No battles for these filters.")
    row_h, top, bottom, right = 22, 28, 30, 24
    labels = [f"{r.get('rank', i + 1)}. {r['model']}" for i, r in enumerate(rows)]
    label_w, chars = _label_room(labels)
    width = max(width, int(label_w) + 260)
    values = [
        v
        for r in rows
        for v in (_num(r.get("rating")), _num(r.get("ci_low")), _num(r.get("ci_high")))
        if v is not None
    ]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 10
    ticks = _nice_ticks(low - pad, high + pad)
    low, high = min(ticks[0], low - pad), max(ticks[-1], high + pad)
    plot_w = width - label_w - right
    height = top + row_h * len(rows) + bottom

    def x(v: float) -> float:
        return label_w + (v - low) / (high - low) * plot_w

    desc = "; ".join(
        f"{r['model']}: {_fmt(_num(r.get('rating')))} ({_fmt(_num(r.get('ci_low')))} to {_fmt(_num(r.get('ci_high')))})"
        for r in rows
    )
    head, tail = _open(width, height, title, desc, "ratings-chart")
    parts = [head]
    axis_y = top + row_h * len(rows)
    for t in ticks:
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" y2="{axis_y}" stroke="{LINE}"/>'
            f'<text x="{x(t):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="{MUTED}">{t:g}</text>'
        )
    parts.append(
        f'<text x="{label_w + plot_w / 2:.1f}" y="{top - 12}" text-anchor="middle" fill="{MUTED}">rating</text>'
    )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        rating, ci_low, ci_high = _num(r.get("rating")), _num(r.get("ci_low")), _num(r.get("ci_high"))
        parts.append(
            f'<g class="model"><title>{escape(r["model"])}: {_fmt(rating)} '
            f"(interval {_fmt(ci_low)} to {_fmt(ci_high)})</title>"
        )
        parts.append(
            _label(labels[i], chars, f'x="{label_w - 8:.0f}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}"')
        )
        if ci_low is not None and ci_high is not None:
            parts.append(
                f'<line x1="{x(ci_low):.1f}" y1="{y:.1f}" x2="{x(ci_high):.1f}" y2="{y:.1f}" '
                f'stroke="{ACCENT}" stroke-width="3" stroke-linecap="round" opacity="0.45"/>'
            )
        if rating is not None:
            parts.append(f'<circle cx="{x(rating):.1f}" cy="{y:.1f}" r="4.5" fill="{ACCENT}"/>')
        parts.append("</g>")
    parts.append(tail)
    return "".join(parts)


def _heat_colour(value: float) -> str:
    """0 → red, 0.5 → white, 1 → blue (a diverging scale readable in print)."""
    value = min(1.0, max(0.0, value))
    if value < 0.5:
        t = value / 0.5
        r, g, b = 179 + (255 - 179) * t, 38 + (255 - 38) * t, 30 + (255 - 30) * t
    else:
        t = (value - 0.5) / 0.5
        r, g, b = 255 - (255 - 47) * t, 255 - (255 - 91) * t, 255 - (255 - 211) * t
    return f"#{round(r):02x}{round(g):02x}{round(b):02x}"


def win_rate_heatmap(
    models: Sequence[str],
    win_rate: Sequence[Sequence[Any]],
    counts: Sequence[Sequence[Any]] | None = None,
    *,
    title: str = "Win rate of the row model against the column model",
) -> str:
    """The pairwise win-rate matrix (ties counted half) with each cell's value written in it."""
    n = len(models)
    if n == 0 or not win_rate:
        return empty_chart(title, "No battles for these filters.")
    # Up to 20 models each cell shows its value; above that the cells are too small to print in,
    # and the value is on hover (each cell's <title>), as are shortened names.
    cell = 34 if n <= 20 else 24
    show_values = cell > 30
    label_w, chars = _label_room(models)
    # Column labels at -60°: they rise sin 60° and lean right cos 60° of their length.
    top = int(label_w * 0.87) + 14
    width, height = label_w + cell * n + 10 + int(chars * CHAR_W * 0.5), top + cell * n + 10
    head, tail = _open(
        width,
        height,
        title,
        f"{n} by {n} matrix; each cell is the share of battles the row model won against "
        "the column model, ties counted half; empty cells: the two never met."
        + ("" if show_values else " Values are shown on hover."),
        "heatmap",
    )
    parts = [head]
    for j, name in enumerate(models):
        cx = label_w + cell * j + cell / 2
        parts.append(
            _label(name, chars, f'transform="translate({cx + 4:.1f},{top - 6}) rotate(-60)" fill="{INK}"')
        )
    for i, row_name in enumerate(models):
        y = top + cell * i
        parts.append(
            _label(
                row_name,
                chars,
                f'x="{label_w - 6:.0f}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" fill="{INK}"',
            )
        )
        for j, col_name in enumerate(models):
            value = _num(win_rate[i][j]) if i < len(win_rate) and j < len(win_rate[i]) else None
            count = None
            if counts and i < len(counts) and j < len(counts[i]):
                count = _num(counts[i][j])
            x0 = label_w + cell * j
            if i == j or value is None:
                parts.append(
                    f'<rect x="{x0:.0f}" y="{y}" width="{cell}" height="{cell}" fill="#f0f2f6" stroke="#fff"/>'
                )
                continue
            battles = f" over {count:.0f} battles" if count is not None else ""
            text = (
                (
                    f'<text x="{x0 + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" font-size="10" '
                    f'fill="{INK if 0.25 < value < 0.75 else "#fff"}">{value:.2f}</text>'
                )
                if show_values
                else ""
            )
            parts.append(
                f'<g class="cell"><title>{escape(row_name)} vs {escape(col_name)}: {value:.2f}{battles}</title>'
                f'<rect x="{x0:.0f}" y="{y}" width="{cell}" height="{cell}" fill="{_heat_colour(value)}" stroke="#fff"/>'
                f"{text}</g>"
            )
    parts.append(tail)
    return "".join(parts)


def bar_chart(
    items: Sequence[Mapping[str, Any]],
    *,
    title: str,
    value_label: str,
    domain: tuple[float, float] = (0.0, 1.0),
    reference: float | None = None,
    width: int = 640,
    digits: int = 2,
) -> str:
    """Horizontal bars: ``items`` are ``{"label", "value", "low"?, "high"?}``; an optional
    reference line (0.5 for "no position bias", 0 for no correlation)."""
    items = [i for i in items if _num(i.get("value")) is not None]
    if not items:
        return empty_chart(title, "Not enough data.")
    row_h, top, bottom, right = 24, 26, 30, 60
    label_w, chars = _label_room([str(i["label"]) for i in items])
    width = max(width, int(label_w) + 260)
    low, high = domain
    plot_w = width - label_w - right
    height = top + row_h * len(items) + bottom

    def x(v: float) -> float:
        v = min(high, max(low, v))
        return label_w + (v - low) / (high - low) * plot_w

    desc = "; ".join(f"{i['label']}: {_fmt(_num(i['value']), digits)}" for i in items)
    head, tail = _open(width, height, title, desc, "bar-chart")
    parts = [head]
    axis_y = top + row_h * len(items)
    for t in _nice_ticks(low, high, 4):
        if low <= t <= high:
            parts.append(
                f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" stroke="{LINE}"/>'
                f'<text x="{x(t):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="{MUTED}">{t:g}</text>'
            )
    parts.append(
        f'<text x="{label_w + plot_w / 2:.1f}" y="{top - 10}" text-anchor="middle" fill="{MUTED}">'
        f"{escape(value_label)}</text>"
    )
    zero = x(max(low, min(high, 0.0)))
    for k, item in enumerate(items):
        y = top + row_h * k
        value = _num(item["value"]) or 0.0
        x_val = x(value)
        parts.append(f"<g><title>{escape(str(item['label']))}: {_fmt(value, digits)}</title>")
        parts.append(
            _label(
                str(item["label"]),
                chars,
                f'x="{label_w - 8:.0f}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" fill="{INK}"',
            )
        )
        parts.append(
            f'<rect x="{min(zero, x_val):.1f}" y="{y + 4}" width="{abs(x_val - zero):.1f}" '
            f'height="{row_h - 8}" fill="{ACCENT}" opacity="0.75"/>'
        )
        lo, hi = _num(item.get("low")), _num(item.get("high"))
        if lo is not None and hi is not None:
            parts.append(
                f'<line x1="{x(lo):.1f}" y1="{y + row_h / 2:.1f}" x2="{x(hi):.1f}" '
                f'y2="{y + row_h / 2:.1f}" stroke="{INK}" stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{max(x_val, zero) + 6:.1f}" y="{y + row_h / 2 + 4:.1f}" fill="{INK}">'
            f"{_fmt(value, digits)}</text></g>"
        )
    if reference is not None and low <= reference <= high:
        parts.append(
            f'<line x1="{x(reference):.1f}" y1="{top - 4}" x2="{x(reference):.1f}" y2="{axis_y}" '
            f'stroke="{INK}" stroke-dasharray="4 3"/>'
        )
    parts.append(tail)
    return "".join(parts)


def stacked_bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    categories: Sequence[str] = ("A", "B", "C", "D"),
    title: str = "Grade distribution per model",
    width: int = 640,
) -> str:
    """One 100 % bar per model split by category counts (A-D grades)."""
    rows = [r for r in rows if sum(int(r.get(c) or 0) for c in categories) > 0]
    if not rows:
        return empty_chart(title, "No grades recorded.")
    row_h, top, right = 22, 30, 20
    label_w, chars = _label_room([str(r["model"]) for r in rows])
    width = max(width, int(label_w) + 260)
    plot_w = width - label_w - right
    height = top + row_h * len(rows) + 12
    desc = "; ".join(
        f"{r['model']}: " + ", ".join(f"{c} {int(r.get(c) or 0)}" for c in categories) for r in rows
    )
    head, tail = _open(width, height, title, desc, "stacked-bars")
    parts = [head]
    for k, c in enumerate(categories):
        colour = GRADE_COLOURS.get(c, ACCENT)
        parts.append(
            f'<rect x="{label_w + k * 60:.0f}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{label_w + k * 60 + 16:.0f}" y="16" fill="{INK}">{escape(c)}</text>'
        )
    for k, r in enumerate(rows):
        y = top + row_h * k
        total = sum(int(r.get(c) or 0) for c in categories)
        parts.append(
            _label(
                str(r["model"]),
                chars,
                f'x="{label_w - 8:.0f}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" fill="{INK}"',
            )
        )
        x0 = float(label_w)
        for c in categories:
            n = int(r.get(c) or 0)
            if not n:
                continue
            w = n / total * plot_w
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                f'fill="{GRADE_COLOURS.get(c, ACCENT)}"><title>{escape(str(r["model"]))}: {n} x {escape(c)} '
                f"({n / total:.0%})</title></rect>"
            )
            x0 += w
    parts.append(tail)
    return "".join(parts)


def _pick(data: Mapping[str, Any] | None, *names: str) -> float | None:
    """The first of ``names`` that ``data`` holds as a number (report dicts name things freely)."""
    if not data:
        return None
    for name in names:
        if name in data and _num(data[name]) is not None:
            return _num(data[name])
    return None


def position_chart(position: Mapping[str, Any] | None, *, title: str = "Position bias") -> str:
    """Per source, the share of decisive verdicts won by the answer shown first (0.5: no bias,
    bar: 95 % interval), only for sources that recorded the order shown."""
    items = []
    for row in (position or {}).get("rows") or []:
        share = row.get("first_shown_wins") or {}
        if row.get("order_recorded") and _num(share.get("share")) is not None:
            items.append(
                {
                    "label": f"{row['source']} (n={share.get('trials')})",
                    "value": share["share"],
                    "low": share.get("ci_low"),
                    "high": share.get("ci_high"),
                }
            )
    if not items:
        return empty_chart(title, "No verdicts with a recorded presentation order.")
    return bar_chart(
        items, title=title, value_label="first-shown answer's share (dashed: no bias)", reference=0.5
    )


def length_chart(length: Mapping[str, Any] | None, *, title: str = "Length bias") -> str:
    """How often the longer answer wins (0.5: length does not matter), overall and per relative
    length gap, each with its 95 % interval."""
    if not length or length.get("error"):
        return empty_chart(title, "No verdicts with answer lengths.")
    items = []
    rows = [("all gaps", length.get("overall") or {})]
    rows += [
        (f"gap {row['low']:.0%}-{row['high']:.0%}", row.get("longer_wins") or {})
        for row in length.get("rows") or []
    ]
    for label, share in rows:
        if _num(share.get("share")) is not None:
            items.append(
                {
                    "label": f"{label} (n={share.get('trials')})",
                    "value": share["share"],
                    "low": share.get("ci_low"),
                    "high": share.get("ci_high"),
                }
            )
    if not items:
        return empty_chart(title, "No decisive verdicts between answers of different length.")
    return bar_chart(
        items, title=title, value_label="longer answer's win rate (dashed: no bias)", reference=0.5
    )


def agreement_chart(
    overall: Mapping[str, Any] | None,
    per_turn: Sequence[Mapping[str, Any]],
    *,
    title: str = "Agreement between the two sources",
) -> str:
    """S1 (ties kept), S2 (ties dropped) and Cohen's κ, overall and per turn."""
    items = []
    for label, data in [("all turns", overall), *((f"turn {t.get('turn')}", t) for t in per_turn)]:
        for metric, names in (
            ("S1", ("agreement_with_ties",)),
            ("S2", ("agreement_without_ties",)),
            ("kappa", ("kappa",)),
        ):
            value = _pick(data, *names)
            if value is not None:
                items.append({"label": f"{label} · {metric}", "value": value})
    return bar_chart(items, title=title, value_label="agreement", domain=(-0.2, 1.0), reference=0.0)
