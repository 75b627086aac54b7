"""Plain descriptions are drawn exactly as rich's Markdown draws them, without importing it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from rich.markdown import Markdown

from predeploy_tui.core.checklist import Item, load_checklist
from predeploy_tui.tui.widgets.description import PlainParagraphs, description, plain_paragraphs

ROOT = Path(__file__).parents[2]
WIDTHS = (1, 7, 20, 33, 58, 80, 119)


def _segments(renderable: RenderableType, width: int) -> list[tuple[str, object, object]]:
    console = Console(width=200, force_terminal=True, color_system="truecolor")
    options = console.options.update(width=width)
    return [(s.text, s.style, s.control) for s in console.render(renderable, options)]


def _same_as_markdown(text: str) -> None:
    paragraphs = plain_paragraphs(text)
    assert paragraphs is not None
    for width in WIDTHS:
        assert _segments(PlainParagraphs(paragraphs), width) == \
            _segments(Markdown(text), width), (text, width)


def _items(items: tuple[Item, ...]) -> Iterator[Item]:
    for item in items:
        yield item
        yield from _items(item.children)


def _bundled_descriptions() -> list[str]:
    found = []
    for path in sorted((ROOT / "checklists").glob("*.yaml")):
        checklist = load_checklist(path)
        found += [i.description for s in checklist.sections for g in s.groups
                  for i in _items(g.items) if i.description]
    return found


def test_every_plain_bundled_description_draws_as_markdown_draws_it() -> None:
    descriptions = _bundled_descriptions()
    plain = [d for d in descriptions if plain_paragraphs(d) is not None]
    assert len(plain) > len(descriptions) // 2  # the fast path is the common one
    for text in plain:
        _same_as_markdown(text)


@pytest.mark.parametrize("text", [
    "one", "one\ntwo\n", "a\n\nb\n\n\n\nc\n", "two  spaces inside", "Ünïcode — dash … (ok)!",
    "x" * 130 + " tail", "word " * 60 + "end", "a: b; c, d. e? f' g\" h% i= j+ k- l/ m@ n$ o^",
    "100% sure", "2 items. 3) later", "\n\nleading blank lines", "colon: at end:",
])
def test_plain_text_draws_as_markdown_draws_it(text: str) -> None:
    _same_as_markdown(text)


@pytest.mark.parametrize("text", [
    "Run it from the **bastion**", "a `code` span", "a [link](x)", "<b>html</b>", "&amp;",
    "escaped \\*", "~~gone~~", "a | b", "# heading", "- item", "+ item", "* item", "1. item",
    "12) item", "title\n===", "title\n---", "    code", " lazy", "hard  \nbreak", "tab\there",
    "cr\r\nlf", "snake_case", "x\n> quote",
])
def test_text_with_markdown_syntax_goes_to_markdown(text: str) -> None:
    assert plain_paragraphs(text) is None
    assert isinstance(description(text), Markdown)


_ALPHABET = st.sampled_from(list("abcXYZ019 .,:;!?'\"()/%=+-@$^{}é—\n*_`[]<>&\\~|#\t"))


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=80))
def test_whatever_the_fast_path_takes_draws_as_markdown_draws_it(text: str) -> None:
    if plain_paragraphs(text) is not None:
        _same_as_markdown(text)


def test_showing_a_plain_description_does_not_import_markdown() -> None:
    code = ("import sys\n"
            "from predeploy_tui.tui.widgets.description import description\n"
            "description('Blocking - a red pipeline means the release is untested.\\n')\n"
            "print('rich.markdown' in sys.modules, 'markdown_it' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert proc.stdout.split() == ["False", "False"]


_PLAIN = st.sampled_from(list("abcXYZ019 .,:;!?'\"()/%=+-@$^{}é—\n"))


@settings(max_examples=300, deadline=None)
@given(st.text(_PLAIN, max_size=120))
def test_plain_looking_text_draws_as_markdown_draws_it(text: str) -> None:
    if plain_paragraphs(text) is not None:
        _same_as_markdown(text)


async def test_the_detail_pane_draws_both_alike() -> None:
    # Through Textual too: both are rich renderables in a Static, drawn line by line.
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    text = _bundled_descriptions()[0] + "\n\nA second paragraph,\nsoftly broken.\n"
    assert isinstance(description(text), PlainParagraphs)

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(Markdown(text), id="markdown")
            yield Static(description(text), id="plain")

    app = Two()
    async with app.run_test(size=(37, 30)) as pilot:
        await pilot.pause()
        markdown, plain = app.query_one("#markdown", Static), app.query_one("#plain", Static)
        assert markdown.region.height == plain.region.height > 2
        assert [list(s) for s in markdown.render_lines(markdown.region.reset_offset)] == \
            [list(s) for s in plain.render_lines(plain.region.reset_offset)]
