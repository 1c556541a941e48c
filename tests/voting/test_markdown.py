"""Model text is untrusted: rendering keeps it readable and strips everything active."""

from html.parser import HTMLParser

import pytest

from arena import markdown
from arena.markdown import ALLOWED_TAGS, render_markdown, rendered_turns, turns_html


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


class TestStoredHtml:
    """Prompts and answers keep their HTML; it is used only while it matches text and renderer."""

    def test_stored_html_is_used_when_it_was_made_from_these_texts(self):
        turns = ["**one**", "two"]
        stored = rendered_turns(turns)
        assert stored["html"] == [render_markdown("**one**"), render_markdown("two")]
        stored["html"] = ["<p>from storage</p>", "<p>also</p>"]  # a marker: not what rendering gives
        assert turns_html(turns, stored) == ["<p>from storage</p>", "<p>also</p>"]

    def test_html_of_other_texts_is_never_shown(self):
        stored = rendered_turns(["old text"])
        assert turns_html(["new <script>x</script>"], stored) == [render_markdown("new <script>x</script>")]
        assert turns_html(["a", "b"], rendered_turns(["a"])) == [render_markdown("a"), render_markdown("b")]

    def test_a_new_renderer_version_renders_again(self, monkeypatch):
        stored = rendered_turns(["text"])
        stored["html"] = ["<p>made by the old renderer</p>"]
        monkeypatch.setattr(markdown, "RENDERER_VERSION", markdown.RENDERER_VERSION + 1)
        assert turns_html(["text"], stored) == [render_markdown("text")]

    @pytest.mark.parametrize("stored", [{}, None, "html", {"key": "x"}, {"html": ["<p>x</p>"]}, []])
    def test_missing_or_malformed_stored_html_renders_from_the_text(self, stored):
        assert turns_html(["*hi*"], stored) == [render_markdown("*hi*")]

    def test_a_stored_value_with_the_right_key_but_a_wrong_shape_renders_from_the_text(self):
        stored = rendered_turns(["a", "b"])
        for broken in (["only one"], ["<p>a</p>", 7], "not a list"):
            assert turns_html(["a", "b"], {**stored, "html": broken}) == [
                render_markdown("a"),
                render_markdown("b"),
            ]


class TestEmphasisInsideExpressions:
    """claude-v1 on MT-Bench 111 wrote ``A = pi*r^2 ... A = pi*(sqrt(5))^2``: plain CommonMark made
    "r^2 ... pi" italic and ate both asterisks, so raters read other text than the judge."""

    CLAUDE = "A = pi*r^2. So the area is: A = pi*(sqrt(5))^2"

    def test_asterisks_inside_an_expression_stay_literal(self):
        html = render_markdown(self.CLAUDE)
        assert "<em>" not in html and "<strong>" not in html
        assert "A = pi*r^2. So the area is: A = pi*(sqrt(5))^2" in html

    @pytest.mark.parametrize("text", ["2*3*4 = 24", "x**2**y", "a*b + c*d", "f(x)*g(x)*h"])
    def test_no_emphasis_between_letters_or_digits(self, text):
        html = render_markdown(text)
        assert "<em>" not in html and "<strong>" not in html
        assert text in html

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("*one* and **two**", "<em>one</em> and <strong>two</strong>"),
            ("**Step 1**: add", "<strong>Step 1</strong>: add"),
            ("(*aside*)", "(<em>aside</em>)"),
            ("The answer is **42**.", "The answer is <strong>42</strong>."),
            ("_under_ and __score__", "<em>under</em> and <strong>score</strong>"),
        ],
    )
    def test_emphasis_between_spaces_and_punctuation_still_works(self, text, expected):
        assert expected in render_markdown(text)

    def test_html_stored_by_the_renderer_before_the_fix_is_made_again(self, monkeypatch):
        monkeypatch.setattr(markdown, "RENDERER_VERSION", 1)  # what the old renderer stored
        stale = {
            "key": markdown.turns_key([self.CLAUDE]),
            "html": ["<p>A = pi<em>r^2. So the area is: A = pi</em>(sqrt(5))^2</p>"],
        }
        monkeypatch.undo()
        assert turns_html([self.CLAUDE], stale) == [render_markdown(self.CLAUDE)]
