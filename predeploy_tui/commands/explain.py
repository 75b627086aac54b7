"""Provides ``predeploy explain [TYPE]``: what each check type exposes to its expectations.

The text lives once, as the ``DATA`` constant of each check type's module; this command prints
it, and the README's "What each check type exposes" section is the same text (a test keeps them
equal: ``predeploy explain --markdown`` prints the section to paste).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
from types import ModuleType

from predeploy_tui.commands import UsageError

HELP = "say what a check type exposes to expect (value, output, data fields, units, truncation)"

README_HEADING = "## What each check type exposes"
"""The README section :func:`markdown` writes (up to the next ``## `` heading)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("type", nargs="?", metavar="TYPE", help="a check type (all of them if left out)")
    p.add_argument("--markdown", action="store_true",
                   help="print the README section for every type instead")


def type_names() -> list[str]:
    """The built-in check types, in the registry's order."""
    from predeploy_tui.engine.checks import BUILTIN

    return list(BUILTIN)


def summary(name: str) -> str:
    """The first line of the type module's docstring, without "Provides the ``x`` check type:"."""
    line = (_module(name).__doc__ or "").strip().splitlines()[0]
    head, sep, rest = line.partition(" check type: ")
    return (rest if sep else head).rstrip(".")


def explain(name: str) -> str:
    """What type ``name`` exposes: its module's ``DATA``, under a one-line title."""
    return f"{name}: {summary(name)}\n\n{data(name)}"


def markdown() -> str:
    """The README section: every type's ``DATA``, verbatim, under its name."""
    parts = [README_HEADING, "",
             "What an `expect` can read from each check type: the `value` that `ge` / `gt` / `le` /",
             "`lt` / `eq` compare when no `regex` or `jmespath` selects another, the `output` that",
             "`regex`, `contains` and `not_contains` read, and the `data` that `jmespath` and `each`",
             "select from, with units, types and truncation. Figures are exact as measured: only",
             "summaries round. The same text is printed by `predeploy explain TYPE`.", ""]
    for name in type_names():
        parts += [f"### `{name}`: {summary(name)}", "", "```text", data(name).rstrip("\n"),
                  "```", ""]
    return "\n".join(parts)


def main(args: argparse.Namespace) -> int:
    """Print one type's explanation, all of them, or the README section."""
    if args.markdown:
        print(markdown(), end="")
        return 0
    names = type_names()
    if args.type is None:
        print("\n".join(explain(name) for name in names), end="")
        return 0
    if args.type not in names:
        close = difflib.get_close_matches(args.type, names, n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (one of: {', '.join(names)})"
        raise UsageError(f"explain: unknown check type {args.type!r}{hint}")
    print(explain(args.type), end="")
    return 0


def data(name: str) -> str:
    """The ``DATA`` text of type ``name``'s module (importing the module, not its client library)."""
    text = getattr(_module(name), "DATA", None)
    if not isinstance(text, str):
        raise UsageError(f"explain: check type {name!r} does not say what it exposes (no DATA)")
    return text


def _module(name: str) -> ModuleType:
    from predeploy_tui.engine.checks import BUILTIN

    return importlib.import_module(BUILTIN[name])
