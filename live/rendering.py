"""Markdown rendered as it streams. Pure: no Django.

An answer arrives a few characters at a time. Rendering the whole text again on every piece
would cost quadratic CPU, so the text is cut into finished blocks: everything up to the last blank
line outside a code fence is final markdown (later text cannot change how it renders, bar a few
constructs such as reference links, fixed by the final rendering). Each finished block is
rendered and sanitised once (``arena.markdown``: markdown-it without raw HTML, then nh3) and sent
as HTML; the unfinished tail is shown as plain text by the page (``textContent``, never HTML).
When the side finishes, the whole answer is rendered once more and replaces the blocks.
"""

from __future__ import annotations

from arena.markdown import render_markdown


def _stable_end(text: str, start: int) -> int:
    """The end of the finished blocks of ``text`` after ``start``: just after the last blank line
    that is not inside a fenced code block (-1 when there is none)."""
    end = -1
    search = text.find("\n\n", start)
    while search != -1:
        # Even number of fences before the blank line: it is outside a code block.
        if text.count("```", 0, search) % 2 == 0 and text.count("~~~", 0, search) % 2 == 0:
            end = search + 2
        search = text.find("\n\n", search + 2)
    return end


class StreamRenderer:
    """Accumulates one side's text; ``feed`` returns HTML for newly finished blocks, if any."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.rendered_upto = 0
        self._text = ""

    @property
    def text(self) -> str:
        if len(self._text) != self.length:
            self._text = "".join(self.parts)
        return self._text

    def feed(self, piece: str) -> str | None:
        self.parts.append(piece)
        self.length += len(piece)
        if "\n" not in piece:  # a block can only finish on a newline
            return None
        text = self.text
        end = _stable_end(text, max(self.rendered_upto, self.length - len(piece) - 1))
        if end <= self.rendered_upto:
            return None
        html = render_markdown(text[self.rendered_upto : end])
        self.rendered_upto = end
        return html

    def final(self) -> str:
        return render_markdown(self.text)
