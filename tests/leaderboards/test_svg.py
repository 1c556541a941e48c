"""The plots are plain SVG a screen reader can describe and a hostile model name cannot break."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports import svg

NS = "{http://www.w3.org/2000/svg}"

ROWS = [
    {"model": "alpha", "rating": 1100.0, "ci_low": 1080.5, "ci_high": 1120.25, "rank": 1},
    {"model": "<script>beta</script>", "rating": 1000.0, "ci_low": 990.0, "ci_high": 1015.0, "rank": 2},
    {"model": "gamma & co", "rating": 900.0, "ci_low": None, "ci_high": None, "rank": 3},
]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own output


def test_ratings_chart_has_a_title_description_and_a_mark_per_model():
    root = parse(svg.ratings_chart(ROWS))

    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Ratings with confidence intervals"
    assert "alpha: 1100.0 (1080.5 to 1120.2)" in root.find(f"{NS}desc").text
    assert len(root.findall(f"{NS}g[@class='model']")) == 3
    assert len(root.findall(f".//{NS}circle")) == 3
    assert "<script>" not in svg.ratings_chart(ROWS)


def test_heatmap_colours_each_pair_and_leaves_unmet_pairs_grey():
    nan = float("nan")
    markup = svg.win_rate_heatmap(
        ["a", "b", "c"],
        [[nan, 0.75, None], [0.25, nan, 0.5], [None, 0.5, nan]],
        [[0, 8, 0], [8, 0, 2], [0, 2, 0]],
    )
    root = parse(markup)

    cells = root.findall(f".//{NS}g/{NS}title")
    assert [c.text for c in cells] == [
        "a vs b: 0.75 over 8 battles",
        "b vs a: 0.25 over 8 battles",
        "b vs c: 0.50 over 2 battles",
        "c vs b: 0.50 over 2 battles",
    ]
    assert svg._heat_colour(0.5) == "#ffffff"


def test_empty_inputs_draw_a_message_not_an_error():
    assert "No battles" in svg.ratings_chart([])
    assert "No battles" in svg.win_rate_heatmap([], [])
    assert "Not enough data" in svg.bar_chart([], title="t", value_label="v")
    assert "No grades" in svg.stacked_bars([])
    parse(svg.position_chart(None))


def test_bar_and_stacked_charts_label_their_values():
    bars = parse(
        svg.bar_chart(
            [{"label": "first-shown wins", "value": 0.62, "low": 0.55, "high": 0.7}],
            title="Position bias",
            value_label="share",
            reference=0.5,
        )
    )
    assert bars.find(f"{NS}desc").text == "first-shown wins: 0.62"
    stacked = parse(svg.stacked_bars([{"model": "alpha", "A": 3, "B": 1, "C": 0, "D": 0}]))
    assert [t.text for t in stacked.findall(f".//{NS}rect/{NS}title")] == [
        "alpha: 3 x A (75%)",
        "alpha: 1 x B (25%)",
    ]


LONG = [f"vicuna-13b-20230322-new-hp-fp16-model-{i:02d}" for i in range(50)]  # 40 characters each


def _label_texts(root: ET.Element) -> list[str]:
    """What each <text> shows in full: its <title> when it was shortened, else its text."""
    out = []
    for text in root.iter(f"{NS}text"):
        title = text.find(f"{NS}title")
        out.append(title.text if title is not None else "".join(text.itertext()))
    return out


def _fits(root: ET.Element) -> None:
    """Every end-anchored label's estimated width fits left of its anchor (nothing cut at x=0)."""
    for text in root.iter(f"{NS}text"):
        if text.get("text-anchor") == "end":
            shown = "".join(t for t in [text.text or ""] + [c.tail or "" for c in text])
            assert float(text.get("x")) - len(shown) * svg.CHAR_W >= 0, shown


def test_long_model_names_are_there_in_full_and_fit_the_chart():
    assert all(len(name) == 40 for name in LONG)
    rows = [
        {"model": name, "rating": 1000.0 + i, "ci_low": 990.0 + i, "ci_high": 1010.0 + i, "rank": i + 1}
        for i, name in enumerate(LONG[:12])
    ]
    charts = [
        svg.ratings_chart(rows),
        svg.bar_chart([{"label": name, "value": 0.5} for name in LONG[:5]], title="t", value_label="v"),
        svg.stacked_bars([{"model": name, "A": 1, "B": 2, "C": 0, "D": 1} for name in LONG[:5]]),
        svg.win_rate_heatmap(LONG[:5], [[0.5] * 5 for _ in range(5)]),
    ]
    for markup in charts:
        root = parse(markup)
        shown = " ".join(_label_texts(root))
        for name in LONG[:5]:
            assert name in shown
        _fits(root)


def test_the_heat_map_of_50_models_puts_values_on_hover_not_in_tiny_print():
    n = 50
    rates = [[0.5 + (i - j) / (2 * n) for j in range(n)] for i in range(n)]
    root = parse(svg.win_rate_heatmap(LONG, rates))
    cells = root.findall(f".//{NS}g[@class='cell']")
    assert len(cells) == n * (n - 1)
    assert all(cell.find(f"{NS}title") is not None and cell.find(f"{NS}text") is None for cell in cells)
    assert cells[0].find(f"{NS}title").text == f"{LONG[0]} vs {LONG[1]}: 0.49"
    assert not [t for t in root.iter(f"{NS}text") if t.get("font-size") == "8"]
    # Column labels are rotated -60°: the top margin holds the longest shown label.
    top = float(root.find(f".//{NS}g[@class='cell']/{NS}rect").get("y"))
    assert top >= svg.MAX_LABEL_CHARS * svg.CHAR_W * 0.866
