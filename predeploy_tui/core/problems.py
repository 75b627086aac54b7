"""Provides located problems in input files and the "did you mean" hint for a likely typo.

Every reader of user files (checklist YAML, session TOML) reports in these terms, so each problem
is one ``file:line:column: what, expected what`` line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, located for a person to find it."""

    path: str
    """The file the problem is in."""
    line: int
    """1-based line."""
    column: int
    """1-based column."""
    message: str
    """What is wrong and what was expected."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def nearest(word: str, options: Sequence[str] | Mapping[str, Any]) -> str | None:
    """The option closest to ``word``, when one is close enough to be a likely typo."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, options: Sequence[str] | Mapping[str, Any]) -> str:
    """", did you mean 'x'?" for the nearest option, or nothing."""
    close = nearest(word, options)
    return f" (did you mean {close!r}?)" if close else ""
