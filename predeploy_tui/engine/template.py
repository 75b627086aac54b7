"""Provides variable substitution in checks: ``${name}``, ``${env:NAME}``, quoting and masking.

A value that lands in a shell command string (the ``run`` of shell and ssh checks) is shell-quoted,
so a version like ``1.2.3; rm -rf /`` stays one argument. ``${env:NAME}`` reads the runner's
environment and its value is secret, as are variables the checklist marks ``secret: true``:
the resolved check's ``shown`` copy masks them as ``***``. A secret never lands in a command
string, whose argv every local user reads in ``ps``: the command names ``$PREDEPLOY_SECRET_1``
(quoted for where it stands) and the value travels in the resolved check's ``env``, which the
transports hand to the process through its environment (locally) or its stdin (over SSH).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from predeploy_tui.core.addressing import port_number
from predeploy_tui.core.checklist import CheckSpec, Host
from predeploy_tui.engine.base import ResolvedCheck

MASK = "***"
"""What a secret value is shown as."""
SHELL_FIELDS: Mapping[str, tuple[str, ...]] = {"shell": ("run",), "ssh": ("run",)}
"""Fields (by check type) whose text runs through a shell, so values are quoted there."""
VARIABLE_ENV_PREFIX = "PREDEPLOY_VAR_"
"""A secret variable's value is read from ``PREDEPLOY_VAR_<name>``, never from the command line."""
MIN_SECRET_LENGTH = 3
"""Shorter secret values are not redacted from output: masking every "a" would ruin it."""

SECRET_ENV_PREFIX = "PREDEPLOY_SECRET_"
"""Environment variables that carry secret values to a command: ``PREDEPLOY_SECRET_1``, ..."""

_REF = re.compile(r"\$\{([^}]*)\}")


def _quoting_at(text: str, end: int) -> str:
    """The sh quoting in force at ``text[end]``: ``'``, ``"`` or "" (none)."""
    state = ""
    i = 0
    while i < end:
        c = text[i]
        if state != "'" and c == "\\":
            i += 2
            continue
        if state == "" and c in "'\"":
            state = c
        elif state == c:
            state = ""
        i += 1
    return state


def _env_reference(name: str, quoting: str) -> str:
    """``$name`` as one word, written for the quoting it lands in."""
    if quoting == "'":
        return f"'\"${{{name}}}\"'"
    if quoting == '"':
        return f"${{{name}}}"
    return f'"${{{name}}}"'


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
                                          f"are not saved): give it in the environment as "
                                          f"{VARIABLE_ENV_PREFIX}{name} or at the app's prompt")
            return "", True
        return value, secret

    def fill(self, text: str, *, quote: bool = False,
             secret_env: dict[str, str] | None = None) -> tuple[str, str]:
        """``text`` with references filled: (clear text, text with secrets masked).

        With ``secret_env`` (a shell command), a secret is not written into the text: it is
        added there as ``PREDEPLOY_SECRET_n`` and the text names that variable instead.
        """
        clear: list[str] = []
        shown: list[str] = []
        last = 0
        for match in _REF.finditer(text):
            clear.append(text[last:match.start()])
            shown.append(text[last:match.start()])
            value, secret = self.value(match.group(1))
            if secret and len(value) >= MIN_SECRET_LENGTH:
                self.secrets.add(value)
            if secret and secret_env is not None:
                name = next((k for k, v in secret_env.items() if v == value),
                            f"{SECRET_ENV_PREFIX}{len(secret_env) + 1}")
                secret_env[name] = value
                piece = _env_reference(name, _quoting_at(text, match.start()))
            else:
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
        """The check with every reference filled (TemplateError names the first unknown one).

        A secret in a shell field goes to the check's ``env`` (see the module docstring); in an
        argument list (``run: [...]`` or ``shell: false``), where no shell reads a variable, it
        is refused rather than put on the command line.
        """
        quoted = SHELL_FIELDS.get(spec.type, ())
        argv = spec.params.get("shell", True) is False
        params: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        env: dict[str, str] = {}
        for key, value in spec.params.items():
            if key in quoted and (argv or not isinstance(value, str)):
                self._refuse_secret_in_argv(key, value)
            if key in quoted and isinstance(value, str) and not argv:
                params[key], shown[key] = self.fill(value, quote=True, secret_env=env)
            else:
                params[key], shown[key] = self._walk(value, key in quoted and isinstance(value, str))
        if isinstance(params.get("port"), str):
            params["port"] = shown["port"] = self.port(spec.params["port"], params["port"])
        expect = None
        if spec.expect is not None:
            expect, _ = self._walk(spec.expect, False)
        return ResolvedCheck(type=spec.type, params=MappingProxyType(params),
                             shown=MappingProxyType(shown), expect=expect, timeout=spec.timeout,
                             env=MappingProxyType(env))

    def _refuse_secret_in_argv(self, key: str, value: Any) -> None:
        for name in references(value):
            if self.value(name)[1]:
                raise TemplateError(name, f"${{{name}}} is secret and {key} is an argument list, "
                                          "where every user would read it in ps: write it as a "
                                          "command string (the value reaches it through the "
                                          "environment)")

    def host(self, host: Host) -> Host:
        """A checklist host with ``${...}`` in its fields filled (plain, never quoted)."""
        def plain(value: str | None) -> str | None:
            return None if value is None else self.fill(value)[0]

        port = host.port
        if isinstance(port, str):
            port = self.port(port, self.fill(port)[0], f"host {host.name}: ")
        return replace(host, host=plain(host.host), user=plain(host.user), port=port,
                       identity_file=plain(host.identity_file), proxy_jump=plain(host.proxy_jump))

    def port(self, written: str, filled: str, where: str = "") -> int:
        """A ``port`` written with ``${...}``, once filled, as a number (TemplateError if not one)."""
        try:
            return port_number(filled)
        except ValueError as exc:
            raise TemplateError(written, f"{where}port {written} gives {exc}") from None


def references(value: Any) -> list[str]:
    """Every ``${...}`` name used in a value (strings, mappings, lists)."""
    if isinstance(value, str):
        return [m.group(1) for m in _REF.finditer(value)]
    if isinstance(value, Mapping):
        return [name for v in value.values() for name in references(v)]
    if isinstance(value, list | tuple):
        return [name for v in value for name in references(v)]
    return []
