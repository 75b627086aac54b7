"""Provides an item's description as rich's Markdown draws it, importing Markdown only when needed.

rich's Markdown and the markdown-it parser under it take about 40 ms to import, on the way to
the first screen. Most descriptions are a sentence or two of plain text, which Markdown draws
as left-justified paragraphs in the paragraph style, a blank line between them, soft line breaks
as spaces: that is drawn here without the import. Text holding anything Markdown could read as
syntax goes to Markdown itself (tests compare the two, segment by segment).
"""

from __future__ import annotations

import re

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text

_SYNTAX = re.compile(
    r"[*_`\[\]<>&\\~|#]"  # emphasis, code, links, HTML, entities, escapes, tables, headings
    r"|^[-+=]|^\d{1,9}[.)]"  # list items, setext underlines, thematic breaks
    r"|^ | $"  # indented code, lazy continuations, hard breaks
    r"|[^\S \n]|[\x00-\x08\x0e-\x1f\x7f]",  # any other space or control character (tab, CR, NUL)
    re.MULTILINE)
"""Anything Markdown could read as more than plain paragraphs."""


class PlainParagraphs:
    """Paragraphs of plain text, rendered as rich's ``Markdown`` renders them."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.paragraphs = paragraphs

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Each paragraph as Markdown's Paragraph element, a blank line between them."""
        style = console.get_style("none", default="none") \
            + console.get_style("markdown.paragraph", default="none")
        options = options.update(height=None)
        for number, paragraph in enumerate(self.paragraphs):
            if number:
                yield Segment.line()
            yield from console.render(Text(paragraph, style=style, justify="left"), options)


def plain_paragraphs(text: str) -> list[str] | None:
    """The paragraphs of ``text`` when it holds no Markdown syntax, else None."""
    if _SYNTAX.search(text.rstrip("\n")):
        return None
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        if line:
            lines.append(line)
        elif lines:
            paragraphs.append(" ".join(lines))
            lines = []
    if lines:
        paragraphs.append(" ".join(lines))
    return paragraphs


def description(text: str) -> RenderableType:
    """``text`` as Markdown draws it (Markdown imported only for text that needs it)."""
    paragraphs = plain_paragraphs(text)
    if paragraphs is not None:
        return PlainParagraphs(paragraphs)
    from rich.markdown import Markdown

    return Markdown(text)
