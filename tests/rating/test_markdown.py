"""Model text is untrusted: rendering keeps it readable and strips everything active."""

from html.parser import HTMLParser

import pytest

from arena.markdown import ALLOWED_TAGS, render_markdown


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def test_code_blocks_stay_readable_and_escaped():
    html = render_markdown("Here:\n\n```python\nif a < b:\n    print('<b>')\n```")
    assert "<pre><code>" in html
    assert "if a &lt; b:\n    print('&lt;b&gt;')" in html


def test_common_markdown_renders():
    html = render_markdown("# Title\n\n- one\n- **two**\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h1>Title</h1>" in html
    assert "<strong>two</strong>" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_single_newlines_are_line_breaks():
    assert "line one<br>" in render_markdown("line one\nline two")


@pytest.mark.parametrize(
    "text",
    [
        "<script>window.__pwned=1</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox)",
        "<iframe src=https://evil.example></iframe>",
        "<form action=https://evil.example><input name=p></form>",
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    ],
)
def test_active_content_never_survives(text):
    found = elements(render_markdown(text))
    assert set(found.tags) <= ALLOWED_TAGS
    assert not {"script", "img", "iframe", "form", "svg", "style", "meta"} & set(found.tags)
    for name, value in found.attrs:
        assert not name.startswith("on")
        assert name != "style"
        if name == "href":
            assert value.startswith(("http://", "https://", "mailto:"))


def test_remote_images_become_their_alt_text():
    html = render_markdown("![tracking pixel](https://evil.example/p.png)")
    assert "evil.example" not in html
    assert "[image: tracking pixel]" in html


def test_links_are_kept_but_cannot_reach_back():
    html = render_markdown("[docs](https://docs.python.org/3/)")
    assert 'href="https://docs.python.org/3/"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_bidi_overrides_and_zero_width_characters_are_removed():
    html = render_markdown("I am Vi\u200bcuna \u202eevil\u202c")
    assert "\u200b" not in html and "\u202e" not in html
    assert "I am Vicuna" in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
