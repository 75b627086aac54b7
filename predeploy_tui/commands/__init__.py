"""Provides the subcommands of ``predeploy``: one module each, with HELP, add_arguments and main."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

COMMANDS: tuple[str, ...] = (
    "validate",
    "schema",
    "explain",
    "new",
    "open",
    "demo",
    "show",
    "run",
    "plan",
    "verify",
    "sign",
    "export",
    "import",
    "diff",
    "commit",
)
"""Subcommand names in the order ``--help`` lists them; module ``commands/<name>.py`` each."""


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


def parse_vars(pairs: Iterable[str]) -> dict[str, str]:
    """``--var k=v`` pairs as a mapping; a pair without ``=`` is a usage error."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
        if name.strip() in out:
            raise UsageError(f"--var {name.strip()} is given twice; give each variable once")
        out[name.strip()] = value
    return out


def secret_values(given: Mapping[str, str], secret_names: Iterable[str],
                  environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The secret variables' values set in the environment (``PREDEPLOY_VAR_<name>``).

    A secret given with ``--var`` is refused: a command line is in ``ps`` for every local user.
    """
    import os

    from predeploy_tui.engine.template import VARIABLE_ENV_PREFIX

    names = list(secret_names)
    for name in names:
        if name in given:
            raise UsageError(f"--var {name}: {name} is a secret variable and a command line is "
                             f"visible to every user in ps; set {VARIABLE_ENV_PREFIX}{name} in "
                             "the environment instead, or enter it at the app's prompt")
    env = os.environ if environ is None else environ
    return {name: env[VARIABLE_ENV_PREFIX + name] for name in names
            if VARIABLE_ENV_PREFIX + name in env}


def refuse_without_terminal(command: str, instead: str) -> bool:
    """True, after saying so on stderr, when stdin or stdout is not a terminal.

    The app reads keys from stdin and draws on stdout; without a terminal it would wait for
    keys that never come, so a script gets a one-line answer instead.
    """
    import sys

    if sys.stdin.isatty() and sys.stdout.isatty():
        return False
    sys.stderr.write(f"predeploy {command} needs a terminal; use {instead} in scripts\n")
    return True


def existing_file(path: str, what: str) -> Path:
    """A path that must exist as a file, or a usage error saying so."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} {path}: no such file")
    if not p.is_file():
        raise UsageError(f"{what} {path}: not a file")
    # The two kinds of file are easy to swap on a command line: say which command was meant.
    if what == "session" and p.suffix.lower() in (".yaml", ".yml"):
        raise UsageError(f"{path} is a checklist, not a session: start a session of it with "
                         f"`predeploy new {path}`")
    if what == "checklist" and p.suffix.lower() == ".toml":
        raise UsageError(f"{path} is a session, not a checklist: open it with "
                         f"`predeploy open {path}`")
    return p
