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


MAX_VARS_FILE_BYTES = 1 << 20
"""A ``--vars`` file larger than this is not a list of variables (and is not read)."""
VARS_FILE_HELP = ("variables from a TOML or YAML file (by suffix), so one file serves several "
                  "checklists: names this checklist does not declare are a warning; --var wins")


def read_vars_file(path: str) -> dict[str, str]:
    """The variables of a ``--vars`` file: a TOML or YAML mapping of names to text or numbers."""
    import tomllib

    import yaml

    from predeploy_tui.core.located import Reader
    from predeploy_tui.core.yamlnodes import node_problems

    p = existing_file(path, "--vars")
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise UsageError(f"--vars {path}: expected a .toml, .yaml or .yml file")
    try:
        if p.stat().st_size > MAX_VARS_FILE_BYTES:
            raise UsageError(f"--vars {path}: larger than {MAX_VARS_FILE_BYTES} bytes; expected "
                             "a short list of variables")
        text = p.read_text(encoding="utf-8")
        data: object
        if suffix == ".toml":
            data = tomllib.loads(text)
        else:
            # The checklist's own guard: no alias bombs, recursive anchors or language tags.
            r = Reader(path)
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            if root is not None:
                node_problems(root, r)
            if r.problems:
                raise UsageError(f"--vars {r.problems[0]}")
            data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"--vars {path}: cannot read it: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"--vars {path}: expected a mapping of variable names to values")
    out: dict[str, str] = {}
    for name, value in data.items():
        if not isinstance(name, str) or isinstance(value, bool) \
                or not isinstance(value, str | int | float):
            raise UsageError(f"--vars {path}: {name}: expected text or a number, got "
                             f"{type(value).__name__}")
        out[name] = str(value)
    return out


def with_vars_file(path: str | None, given: Mapping[str, str], declared: Iterable[str],
                   secret_names: Iterable[str]) -> dict[str, str]:
    """``--var`` values (``given``) over those of the ``--vars`` file at ``path``, if any.

    A name the checklist does not declare is left out with a one-line warning on stderr (the file
    may serve several checklists); a secret variable in the file is refused like one in ``--var``.
    """
    if path is None:
        return dict(given)
    import sys

    values = read_vars_file(path)
    names = set(declared)
    for name in secret_names:
        if name in values:
            raise _secret_refused(f"--vars {path}", name, "is not read from a file")
    unused = sorted(set(values) - names)
    if unused:
        sys.stderr.write(f"predeploy: warning: --vars {path}: not declared by this checklist, "
                         f"ignored: {', '.join(unused)}\n")
    return {**{k: v for k, v in values.items() if k in names}, **given}


def _secret_refused(flag: str, name: str, why: str) -> UsageError:
    """The one message for a secret variable given where secrets are not taken."""
    from predeploy_tui.engine.template import VARIABLE_ENV_PREFIX

    return UsageError(f"{flag}: {name} is a secret variable and {why}; set "
                      f"{VARIABLE_ENV_PREFIX}{name} in the environment instead, or enter it at "
                      "the app's prompt")


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
            raise _secret_refused(f"--var {name}", name,
                                  "a command line is visible to every user in ps")
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


def report_target(path: str, force: bool, flag: str) -> Path:
    """Where a report (export -o, run --junit) may be written, or a usage error saying why not.

    A session file is never written over, even with --force: it is the release record, and a
    report in its place loses it. Any other existing file needs --force. A missing folder is
    refused, not created: a mistyped path should not leave a new folder tree behind.
    """
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{flag} {out}: cannot write: it is a folder")
    if not out.parent.is_dir():
        why = "is not a folder" if out.parent.exists() else "does not exist"
        raise UsageError(f"{flag} {out}: cannot write: the folder {out.parent} {why}")
    if out.exists() or out.is_symlink():
        if _is_session(out):
            raise UsageError(f"{flag} {out}: is a session file; a report never replaces one "
                             "(choose another name)")
        if not force:
            raise UsageError(f"{flag} {out}: the file exists; add --force to replace it")
    return out


def _is_session(path: Path) -> bool:
    """Whether ``path`` holds a predeploy session (its first lines say so)."""
    import re

    try:
        with path.open("rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return "# predeploy session" in head or (
        re.search(r"^schema\s*=", head, re.M) is not None and "[session]" in head)
