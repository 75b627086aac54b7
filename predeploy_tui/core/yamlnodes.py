"""Provides the checks on a checklist's YAML before it is validated: syntax, tags, aliases, keys.

These look at the composed node graph, so they see what ``yaml.safe_load`` would hide (a
duplicate key silently wins there) and stop what it would choke on (a recursive anchor, a
"billion laughs" file, a language-specific tag) with a located message.
"""

from __future__ import annotations

import re

import yaml

from predeploy_tui.core.located import Reader
from predeploy_tui.core.problems import Problem


def syntax_problem(exc: yaml.MarkedYAMLError, shown: str) -> Problem:
    """One located line for a YAML syntax error, with where the broken construct began."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = exc.problem or "invalid YAML"
    if "'\\t'" in what or "tab" in what.lower():
        what = "a tab character where YAML needs spaces for indentation"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None \
            and exc.context_mark.line != exc.problem_mark.line:
        what += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    return Problem(shown, line, col, f"YAML syntax error: {what}")


MAX_ITEMS = 5_000
"""The one limit on a checklist's size: the most items (sub-items included) a checklist may hold.

It is the session scale target (a 5,000-item session saves, loads and paints), the loader refuses
more, and ``predeploy import`` refuses more before it builds anything."""
VALUES_PER_ITEM = 30
"""The most YAML values one item takes (id, title, description, kind, a check with a matcher)."""
MAX_VALUES = MAX_ITEMS * VALUES_PER_ITEM
"""More values than this (after YAML aliases are expanded) is not a checklist but an attack:
sized so that a checklist of :data:`MAX_ITEMS` full items still loads."""


MAX_DIGITS = 1000
"""A whole number longer than this is no count, port or threshold (Python refuses past 4,300)."""
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_SURROGATE = re.compile("[\ud800-\udfff]")


def scalar_problem(node: yaml.ScalarNode) -> str:
    """Why a scalar is no value a checklist can hold, or ``""``: too long a number, nan or inf,
    a lone surrogate (an escape such as ``"\\ud800"`` that is not text and cannot be saved)."""
    value = node.value
    if node.tag == _INT and len(value) > MAX_DIGITS:
        return f"a number of {len(value)} digits; expected at most {MAX_DIGITS}"
    if node.tag == _FLOAT and ("nan" in value.lower() or "inf" in value.lower()):
        return f"{value} is not a finite number; write it in quotes if you mean the text"
    if _SURROGATE.search(value):
        return "a lone surrogate escape (such as \\ud800) is not text; remove it"
    return ""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def node_problems(root: yaml.Node, r: Reader) -> None:
    """Refuse what plain YAML data never needs: language tags, recursive or exploding aliases.

    The rest of the loader walks the node graph as a tree, so a recursive anchor would never end
    and a "billion laughs" file would take hours; both are stopped here, in linear time.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    aliased = False
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        nid = id(node)
        if finished:
            on_path.discard(nid)
            sizes[nid] = min(MAX_VALUES + 1, 1 + sum(sizes[id(c)] for c in _children(node)))
            continue
        if nid in sizes:
            aliased = True  # a node reached twice: only an alias does that
            continue
        if nid in on_path:
            r.at(node, "a YAML alias refers to a value that contains it (a recursive anchor); "
                       "expected plain data")
            return
        if node.tag not in yaml.SafeLoader.yaml_constructors:
            shown_tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            r.at(node, f"unsupported YAML tag {shown_tag}; expected plain YAML data "
                       "(text, numbers, lists, mappings)")
            return
        if isinstance(node, yaml.ScalarNode):
            problem = scalar_problem(node)
            if problem:
                r.at(node, problem)
                return
        on_path.add(nid)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    if sizes.get(id(root), 0) > MAX_VALUES:
        if aliased:
            r.at(root, f"YAML aliases expand this file to more than {MAX_VALUES} values; "
                       "expected a checklist written out plainly")
        else:
            r.at(root, f"this file holds more than {MAX_VALUES} values; a checklist is far "
                       "smaller (split it into several checklists)")


def duplicate_keys(node: yaml.Node, r: Reader) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        r.at(key_node, f"duplicate key {key_node.value!r} (first on line "
                                       f"{seen[key_node.value]})")
                    else:
                        seen[key_node.value] = key_node.start_mark.line + 1
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
