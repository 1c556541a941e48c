"""Markdown rendered as it streams: finished blocks once, sanitised, never raw model HTML."""

from __future__ import annotations

from live.rendering import StreamRenderer, _stable_end


def feed_all(pieces: list[str]) -> tuple[StreamRenderer, list[str]]:
    renderer = StreamRenderer()
    blocks = [html for piece in pieces if (html := renderer.feed(piece))]
    return renderer, blocks


def test_blocks_are_rendered_once_each_as_they_finish():
    renderer, blocks = feed_all(["## Ti", "tle\n", "\nSome **bo", "ld** text\n\n- a\n", "- b"])
    assert blocks == ["<h2>Title</h2>\n", "<p>Some <strong>bold</strong> text</p>\n"]
    assert renderer.text[renderer.rendered_upto :] == "- a\n- b"  # the tail, shown as plain text
    assert "<li>a</li>" in renderer.final() and "<h2>Title</h2>" in renderer.final()


def test_model_html_never_passes_through():
    _, blocks = feed_all(
        ["<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n", "[x](javascript:alert(3))\n\n"]
    )
    html = "".join(blocks)
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;" in html


def test_a_blank_line_inside_a_code_fence_does_not_end_a_block():
    text = "```\nline one\n\nline two\n```\n\nafter"
    assert _stable_end(text, 0) == text.index("after")
    assert _stable_end("no blank line yet\n", 0) == -1
    _, blocks = feed_all(["```\nline one\n", "\nline two\n", "```\n\n", "after"])
    assert len(blocks) == 1 and "line one\n\nline two" in blocks[0]
