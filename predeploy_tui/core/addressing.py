"""Provides the rules for where a check connects: a port (maybe a ``${variable}``), a host alone.

The loader reads them (:mod:`spec` rules) and the engine asks :func:`port_number` again once a
``${variable}`` in a port is filled, so both say the same thing about the same value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from predeploy_tui.core.located import MISSING, Reader, describe, scalar_value
from predeploy_tui.core.spec import Scalar, Spec

PORT_MAX = 65535


def port_number(value: Any) -> int:
    """``value`` (a number, or text holding one once variables are filled) as a TCP port.

    ValueError says why it is not one; the loader and the engine's variable filling both ask here.
    """
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= PORT_MAX:
        raise ValueError(f"{str(value)!r} is not a port (expected a whole number from 1 to "
                         f"{PORT_MAX})")
    return int(text)


@dataclass
class Port(Spec):
    """A TCP port: a number, or text with a ``${variable}`` checked as a port once it is filled."""

    description: str = ""

    def expected(self) -> str:
        return f"a port (1 to {PORT_MAX}) or text with a ${{variable}}"

    def read(self, node: yaml.Node, r: Reader) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            r.at(node, f"expected {self.expected()}, got {describe(node)}")
            return MISSING
        value = scalar_value(node)
        if isinstance(value, str) and "${" in value:
            return value
        try:
            return port_number(value)
        except ValueError as exc:
            r.at(node, f"{exc} or text with a ${{variable}}")
            return MISSING

    def schema(self) -> dict[str, Any]:
        return self._with_doc({"anyOf": [
            {"type": "integer", "minimum": 1, "maximum": PORT_MAX},
            {"type": "string", "pattern": r"^(\d{1,5}|.*\$\{[^}]+\}.*)$"}]})


_HOST_AND_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d+|\$\{[^}]+\})$")


def Address(field: str, description: str = "") -> Scalar:
    """A host name or address without a port: ``host:PORT`` is refused, naming the port field.

    The check would otherwise fail at run time with "cannot resolve" for the whole text.
    """
    def check(value: Any) -> str | None:
        match = _HOST_AND_PORT.match(str(value).strip())
        if match is None:
            return None
        host = match.group("v6") or match.group("host")
        return (f"{field} {str(value)!r} holds a port; expected a host name or address alone: "
                f"write '{field}: {host}' and 'port: {match.group('port')}'")
    return Scalar("string", description, check=check)
