"""Provides variable substitution in checks: ``${name}``, ``${env:NAME}``, quoting and masking.

A value that lands in a shell command string (the ``run`` of shell and ssh checks) is shell-quoted,
so a version like ``1.2.3; rm -rf /`` stays one argument. ``${env:NAME}`` reads the runner's
environment and its value is secret, as are variables the checklist marks ``secret: true``:
the resolved check's ``shown`` copy masks them as ``***``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from predeploy_tui.core.checklist import CheckSpec, Host
from predeploy_tui.engine.base import ResolvedCheck

MASK = "***"
"""What a secret value is shown as."""
SHELL_FIELDS: Mapping[str, tuple[str, ...]] = {"shell": ("run",), "ssh": ("run",)}
"""Fields (by check type) whose text runs through a shell, so values are quoted there."""
MIN_SECRET_LENGTH = 3
"""Shorter secret values are not redacted from output: masking every "a" would ruin it."""

_REF = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """A ``${...}`` reference that cannot be filled: the message names it."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


class Template:
    """Fills ``${...}`` references from session variables and the environment."""

    def __init__(self, variables: Mapping[str, str], *, environ: Mapping[str, str],
                 secret_names: Collection[str] = (), strict_env: bool = True) -> None:
        self._variables = dict(variables)
        self._environ = environ
        self._secret_names = set(secret_names)
        self._strict_env = strict_env
        self.secrets: set[str] = {v for k, v in self._variables.items()
                                  if k in self._secret_names and v != MASK
                                  and len(v) >= MIN_SECRET_LENGTH}
        """Every secret value seen so far (for the redactor)."""

    def value(self, name: str) -> tuple[str, bool]:
        """The value of a reference (``version`` or ``env:TOKEN``) and whether it is secret."""
        if name.startswith("env:"):
            env = name[4:]
            if env not in self._environ:
                if self._strict_env:
                    raise TemplateError(name, f"environment variable {env} is not set "
                                              f"(needed for ${{env:{env}}})")
                return "", True
            return self._environ[env], True
        if name not in self._variables:
            known = ", ".join(sorted(self._variables)) or "none"
            raise TemplateError(name, f"unknown variable ${{{name}}} (known: {known})")
        value = self._variables[name]
        secret = name in self._secret_names
        if secret and value == MASK:
            if self._strict_env:
                raise TemplateError(name, f"secret variable {name} has no value here (secrets "
                                          f"are not saved): give it with --var {name}=...")
            return "", True
        return value, secret

    def fill(self, text: str, *, quote: bool = False) -> tuple[str, str]:
        """``text`` with references filled: (clear text, text with secrets masked)."""
        clear: list[str] = []
        shown: list[str] = []
        last = 0
        for match in _REF.finditer(text):
            clear.append(text[last:match.start()])
            shown.append(text[last:match.start()])
            value, secret = self.value(match.group(1))
            if secret and len(value) >= MIN_SECRET_LENGTH:
                self.secrets.add(value)
            piece = shlex.quote(value) if quote else value
            clear.append(piece)
            shown.append(MASK if secret else piece)
            last = match.end()
        clear.append(text[last:])
        shown.append(text[last:])
        return "".join(clear), "".join(shown)

    def _walk(self, value: Any, quote: bool) -> tuple[Any, Any]:
        if isinstance(value, str):
            return self.fill(value, quote=quote)
        if isinstance(value, Mapping):
            pairs = {str(k): self._walk(v, False) for k, v in value.items()}
            return ({k: c for k, (c, _) in pairs.items()}, {k: s for k, (_, s) in pairs.items()})
        if isinstance(value, list | tuple):
            items = [self._walk(v, False) for v in value]
            return [c for c, _ in items], [s for _, s in items]
        return value, value

    def check(self, spec: CheckSpec) -> ResolvedCheck:
        """The check with every reference filled (TemplateError names the first unknown one)."""
        quoted = SHELL_FIELDS.get(spec.type, ())
        params: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        for key, value in spec.params.items():
            params[key], shown[key] = self._walk(value, key in quoted and isinstance(value, str))
        expect = None
        if spec.expect is not None:
            expect, _ = self._walk(spec.expect, False)
        return ResolvedCheck(type=spec.type, params=MappingProxyType(params),
                             shown=MappingProxyType(shown), expect=expect, timeout=spec.timeout)

    def host(self, host: Host) -> Host:
        """A checklist host with ``${...}`` in its fields filled (plain, never quoted)."""
        def plain(value: str | None) -> str | None:
            return None if value is None else self.fill(value)[0]

        return replace(host, host=plain(host.host), user=plain(host.user),
                       identity_file=plain(host.identity_file), proxy_jump=plain(host.proxy_jump))


def references(value: Any) -> list[str]:
    """Every ``${...}`` name used in a value (strings, mappings, lists)."""
    if isinstance(value, str):
        return [m.group(1) for m in _REF.finditer(value)]
    if isinstance(value, Mapping):
        return [name for v in value.values() for name in references(v)]
    if isinstance(value, list | tuple):
        return [name for v in value for name in references(v)]
    return []
