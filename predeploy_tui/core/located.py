"""Provides YAML values that remember where they were written, and the reader that reports on them.

The checklist's schema language (:mod:`spec`) and its cross-checks walk YAML nodes with a
:class:`Reader`, which collects every problem with its position.
"""

from __future__ import annotations

from typing import Any

import yaml

from predeploy_tui.core.problems import Problem


class LocatedDict(dict[str, Any]):
    """A validated mapping that remembers where it and each of its keys were written."""

    line: int = 0
    column: int = 0
    key_marks: dict[str, tuple[int, int]]

    def mark_of(self, key: str) -> tuple[int, int]:
        """Line and column of ``key`` (or of the mapping when the key is absent)."""
        return self.key_marks.get(key, (self.line, self.column))


class LocatedList(list[Any]):
    """A validated sequence that remembers where each element was written."""

    line: int = 0
    column: int = 0
    marks: list[tuple[int, int]]


class Reader:
    """Collects problems while spec objects walk a YAML node tree."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        """Things that work but should be written otherwise (a deprecated keyword)."""

    def problem(self, mark: tuple[int, int], message: str) -> None:
        """Record a problem at a (line, column) pair."""
        self.problems.append(Problem(self.path, mark[0], mark[1], message))

    def warn(self, mark: tuple[int, int], message: str) -> None:
        """Record a warning at a (line, column) pair."""
        self.warnings.append(Problem(self.path, mark[0], mark[1], f"warning: {message}"))

    def at(self, node: yaml.Node, message: str) -> None:
        """Record a problem at the start of a node."""
        self.problem(pos(node), message)


def pos(node: yaml.Node) -> tuple[int, int]:
    """The 1-based (line, column) where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


MISSING: Any = object()
"""What a rule returns for a value it refused (the problem is recorded)."""


def describe(node: yaml.Node) -> str:
    """A short description of what a node holds, for "got ..." in messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = scalar_value(node)
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    text = str(value)
    return f"the text {text[:40]!r}"


def scalar_value(node: yaml.Node) -> Any:
    """Resolve a scalar node to its Python value with YAML 1.1 core rules (as safe_load does)."""
    constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
    yaml.constructor.SafeConstructor.__init__(constructor)
    return constructor.construct_object(node, deep=True)
