"""Provides a small schema language that validates YAML nodes with positions and emits JSON Schema.

One description of the checklist format serves two readers: the loader, which needs every problem
reported as ``file:line:column`` (all at once, with "did you mean"), and editors, which get the same
rules as JSON Schema from ``predeploy schema``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from predeploy_tui.core.located import (
    MISSING,
    LocatedDict,
    LocatedList,
    Reader,
    describe,
    pos,
    scalar_value,
)
from predeploy_tui.core.problems import nearest, suggest
from predeploy_tui.core.quantity import (
    DURATION_UNITS,
    QUANTITY_UNITS,
    QuantityError,
    Seconds,
    parse_duration,
    parse_quantity,
)


class Spec:
    """A rule for one value of the format."""

    description: str = ""

    def read(self, node: yaml.Node, r: Reader) -> Any:
        """Validate ``node``, recording problems, and return its value (or ``MISSING``)."""
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """This rule as JSON Schema."""
        raise NotImplementedError

    def expected(self) -> str:
        """What a valid value looks like, in words."""
        raise NotImplementedError

    def _with_doc(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass
class Scalar(Spec):
    """A string, number, integer or boolean, with optional choices, pattern and check."""

    kind: str = "string"
    """One of string, integer, number, boolean."""
    description: str = ""
    choices: Sequence[str] | None = None
    pattern: str | None = None
    minimum: float | None = None
    check: Callable[[Any], str | None] | None = None
    """Extra validation; returns a message when the value is wrong."""
    convert: Callable[[Any], Any] | None = None

    def expected(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return {"string": "text", "integer": "a whole number", "number": "a number",
                "boolean": "true or false"}[self.kind]

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        value = scalar_value(node)
        ok = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }[self.kind]
        if not ok and self.kind == "string" and isinstance(value, int | float | date) \
                and not isinstance(value, bool):
            # A bare number or date where text is expected: keep it as written.
            value, ok = node.value, True
        if not ok:
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        if self.choices is not None and value not in self.choices:
            hint = suggest(str(value), self.choices)
            r.at(node, f"{value!r} is not one of {', '.join(self.choices)}{hint}")
            return MISSING
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            r.at(node, f"{value!r} does not match {self.pattern}")
            return MISSING
        if self.minimum is not None and value < self.minimum:
            r.at(node, f"{value} is below the minimum {self.minimum}")
            return MISSING
        if self.check is not None:
            message = self.check(value)
            if message:
                r.at(node, message)
                return MISSING
        return self.convert(value) if self.convert else value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.choices is not None:
            out["enum"] = list(self.choices)
        if self.pattern is not None:
            out["pattern"] = f"^(?:{self.pattern})$"
        if self.minimum is not None:
            out["minimum"] = self.minimum
        return self._with_doc(out)


def _check_regex(value: Any) -> str | None:
    try:
        re.compile(str(value))
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return None


def _check_jmespath(value: Any) -> str | None:
    # Imported here: only checklists that use a jmespath matcher pay for the library.
    import jmespath
    import jmespath.exceptions

    try:
        jmespath.compile(str(value))
    except jmespath.exceptions.JMESPathError as exc:
        # The library's message spans three lines (text, expression, caret); keep one.
        if isinstance(exc, jmespath.exceptions.IncompleteExpressionError):
            detail = "the expression ends too early"
        else:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            detail = first.split(": ", 1)[-1].rstrip(":") if isinstance(
                exc, jmespath.exceptions.LexerError) else first.split(": Parse error")[0]
        position = getattr(exc, "lex_position", None)
        where = f" at character {position + 1}" if isinstance(position, int) else ""
        return f"invalid JMESPath expression {str(value)!r}: {detail}{where}"
    return None


def _check_duration(value: Any) -> str | None:
    try:
        parse_duration(value)
    except QuantityError as exc:
        return str(exc)
    return None


def _check_quantity(value: Any) -> str | None:
    try:
        parse_quantity(value)
    except QuantityError as exc:
        return str(exc)
    return None


def Text(description: str = "", **kw: Any) -> Scalar:
    """A string."""
    return Scalar("string", description, **kw)


def Regex(description: str = "") -> Scalar:
    """A regular expression, compiled to check it."""
    return Scalar("string", description, check=_check_regex)


def JMESPath(description: str = "") -> Scalar:
    """A JMESPath expression, compiled to check it."""
    return Scalar("string", description, check=_check_jmespath)


def Bool(description: str = "") -> Scalar:
    """true or false."""
    return Scalar("boolean", description)


def Int(description: str = "", minimum: float | None = None) -> Scalar:
    """A whole number."""
    return Scalar("integer", description, minimum=minimum)


def _units(units: Sequence[str]) -> str:
    """A case-insensitive alternation of units for JSON Schema (ECMA 262 has no inline flags)."""
    def anycase(unit: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in unit)
    # Longest first, so "ms" is tried before "m".
    return "|".join(anycase(u) for u in sorted(units, key=lambda u: (-len(u), u)))


@dataclass
class Duration(Spec):
    """A duration: seconds as a number, or text such as ``90s``, ``5m``, ``24h``, ``90d``."""

    description: str = ""
    as_written: bool = False
    """Keep the text written (``8h``) with the seconds (``quantity.Seconds``), to save it so."""

    def expected(self) -> str:
        return "a duration such as 30, 30s, 5m, 24h or 90d"

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        value = scalar_value(node)
        try:
            seconds = parse_duration(value)
        except QuantityError as exc:
            r.at(node, str(exc))
            return MISSING
        return Seconds(seconds, value.strip()) if self.as_written and isinstance(value, str) \
            else seconds

    def schema(self) -> dict[str, Any]:
        # The same units, in any case, that quantity.parse_duration reads; never negative.
        return self._with_doc({"type": ["number", "string"], "minimum": 0,
                               "pattern": rf"^\s*\d+(\.\d+)?\s*({_units(DURATION_UNITS)})?\s*$"})


@dataclass
class Quantity(Spec):
    """A number, optionally with a unit: ``80``, ``80%``, ``100GB``, ``4GiB``, ``500ms``, ``30d``."""

    description: str = ""

    def expected(self) -> str:
        return "a number, optionally with a unit (80, 80%, 100GB, 4GiB, 500ms, 30d)"

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        value = scalar_value(node)
        if isinstance(value, bool) or value is None:
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        try:
            parse_quantity(value)
        except QuantityError as exc:
            r.at(node, str(exc))
            return MISSING
        return value

    def schema(self) -> dict[str, Any]:
        return self._with_doc({"type": ["number", "string"],
                               "pattern": rf"^\s*-?\d+(\.\d+)?\s*({_units(QUANTITY_UNITS)})?\s*$"})


@dataclass
class Any_(Spec):
    """Any YAML value (plain data), e.g. a JSON body or API parameters."""

    description: str = ""

    def expected(self) -> str:
        return "any value"

    def read(self, node: yaml.Node, r: Reader) -> Any:
        constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
        yaml.constructor.SafeConstructor.__init__(constructor)
        try:
            return constructor.construct_document(node)
        except yaml.YAMLError as exc:
            r.at(node, f"cannot read this value: {exc}")
            return MISSING

    def schema(self) -> dict[str, Any]:
        return self._with_doc({})


@dataclass
class ListOf(Spec):
    """A list whose elements follow one rule; a single value is accepted where ``single`` is set."""

    item: Spec
    description: str = ""
    single: bool = False
    """Accept one bare element as a list of one."""
    min_items: int = 0

    def expected(self) -> str:
        return f"a list of {self.item.expected()}"

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            if self.single and isinstance(node, yaml.ScalarNode):
                value = self.item.read(node, r)
                out = LocatedList([] if value is MISSING else [value])
                out.line, out.column = pos(node)
                out.marks = [pos(node)]
                return out
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        out = LocatedList()
        out.line, out.column = pos(node)
        out.marks = []
        if len(node.value) < self.min_items:
            r.at(node, f"expected at least {self.min_items} entries, got {len(node.value)}")
        for child in node.value:
            value = self.item.read(child, r)
            if value is not MISSING:
                out.append(value)
                out.marks.append(pos(child))
        return out

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.single:
            return self._with_doc({"anyOf": [out, self.item.schema()]})
        return self._with_doc(out)


@dataclass
class MapOf(Spec):
    """A mapping from names (matching ``key_pattern``) to values that follow one rule."""

    value: Spec
    description: str = ""
    key_pattern: str | None = None

    def expected(self) -> str:
        return "a mapping of names to values"

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if not isinstance(node, yaml.MappingNode):
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        out = LocatedDict()
        out.line, out.column = pos(node)
        out.key_marks = {}
        for key_node, value_node in node.value:
            key = scalar_value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                r.at(key_node, "keys must be names (text)")
                continue
            key = str(key)
            if self.key_pattern and not re.fullmatch(self.key_pattern, key):
                r.at(key_node, f"{key!r} is not a valid name (expected {self.key_pattern})")
                continue
            value = self.value.read(value_node, r)
            if value is not MISSING:
                out[key] = value
                out.key_marks[key] = pos(key_node)
        return out

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object", "additionalProperties": self.value.schema()}
        if self.key_pattern:
            out["propertyNames"] = {"pattern": f"^(?:{self.key_pattern})$"}
        return self._with_doc(out)


@dataclass
class Obj(Spec):
    """A mapping with named fields, some required; unknown keys are errors with a suggestion."""

    fields: Mapping[str, Spec]
    description: str = ""
    required: Sequence[str] = ()
    shorthand: str | None = None
    """When set, a bare scalar is accepted as ``{shorthand: value}``."""
    extra: Callable[[LocatedDict, Reader], None] | None = None
    """Cross-field validation run after the fields are read."""
    variants: Mapping[str, Mapping[str, Spec]] = field(default_factory=dict)
    """Extra fields allowed depending on the value of ``discriminator``."""
    discriminator: str | None = None

    def expected(self) -> str:
        return "a mapping with keys " + ", ".join(self.fields)

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if self.shorthand and isinstance(node, yaml.ScalarNode):
            value = self.fields[self.shorthand].read(node, r)
            if value is MISSING:
                return MISSING
            out = LocatedDict({self.shorthand: value})
            out.line, out.column = pos(node)
            out.key_marks = {self.shorthand: pos(node)}
            return out
        if not isinstance(node, yaml.MappingNode):
            r.at(node, f"expected a mapping, got {describe(node)}")
            return MISSING
        fields = dict(self.fields)
        # Without a known variant (type missing or misspelt) the allowed keys are unknown, so
        # "unknown key" for each of the variant's own fields would only bury the real problem.
        known_variant = not self.discriminator
        if self.discriminator:
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == self.discriminator:
                    tag = scalar_value(value_node) if isinstance(value_node, yaml.ScalarNode) else None
                    fields.update(self.variants.get(str(tag), {}))
                    known_variant = str(tag) in self.variants
        out = LocatedDict()
        out.line, out.column = pos(node)
        out.key_marks = {}
        suggested: set[str] = set()
        for key_node, value_node in node.value:
            key = scalar_value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                r.at(key_node, f"keys must be names, got {describe(key_node)}")
                continue
            spec = fields.get(key)
            if spec is None:
                if known_variant:
                    close = nearest(key, fields)
                    if close is not None:
                        suggested.add(close)
                    r.at(key_node, f"unknown key {key!r}{suggest(key, fields)}; "
                                   f"expected one of {', '.join(fields)}")
                continue
            value = spec.read(value_node, r)
            out.key_marks[key] = pos(key_node)
            if value is not MISSING:
                out[key] = value
        for name in self.required:
            # A misspelt required key is already reported with "did you mean"; once is enough.
            if name not in out.key_marks and name not in suggested:
                r.problem((out.line, out.column), f"missing required key {name!r}")
        if self.extra is not None:
            self.extra(out, r)
        return out

    def schema(self) -> dict[str, Any]:
        props = {name: spec.schema() for name, spec in self.fields.items()}
        out: dict[str, Any] = {"type": "object", "properties": props}
        if self.required:
            out["required"] = list(self.required)
        if self.variants and self.discriminator:
            # Each variant allows its own keys; JSON Schema says so with if/then per value.
            allowed_all = set(self.fields)
            branches = []
            for tag, extra in self.variants.items():
                allowed = sorted(allowed_all | set(extra))
                branches.append({
                    "if": {"properties": {self.discriminator: {"const": tag}},
                           "required": [self.discriminator]},
                    "then": {"properties": {k: s.schema() for k, s in extra.items()},
                             "propertyNames": {"enum": allowed}},
                })
            out["allOf"] = branches
        else:
            out["additionalProperties"] = False
        if self.shorthand:
            return self._with_doc({"anyOf": [out, self.fields[self.shorthand].schema()]})
        return self._with_doc(out)


@dataclass
class OneOf(Spec):
    """One of several rules, picked by the node's shape (scalar, list or mapping)."""

    scalar: Spec | None = None
    sequence: Spec | None = None
    mapping: Spec | None = None
    description: str = ""

    def expected(self) -> str:
        return " or ".join(s.expected() for s in (self.scalar, self.sequence, self.mapping) if s)

    def read(self, node: yaml.Node, r: Reader) -> Any:
        spec = {yaml.ScalarNode: self.scalar, yaml.SequenceNode: self.sequence,
                yaml.MappingNode: self.mapping}.get(type(node))
        if spec is None:
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        return spec.read(node, r)

    def schema(self) -> dict[str, Any]:
        return self._with_doc({"anyOf": [s.schema() for s in (self.scalar, self.sequence,
                                                                self.mapping) if s]})




@dataclass
class Ref(Spec):
    """A named rule used recursively (sub-items); emitted once under ``$defs``."""

    name: str
    target: Spec | None = None

    def expected(self) -> str:
        assert self.target is not None
        return self.target.expected()

    def read(self, node: yaml.Node, r: Reader) -> Any:
        assert self.target is not None
        return self.target.read(node, r)

    def schema(self) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{self.name}"}
