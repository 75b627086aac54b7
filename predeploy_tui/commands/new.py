"""Provides ``predeploy new``: start a session of a checklist."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from predeploy_tui.commands import (
    VARS_FILE_HELP,
    UsageError,
    existing_file,
    parse_vars,
    refuse_without_terminal,
    secret_values,
    with_vars_file,
)

if TYPE_CHECKING:
    from predeploy_tui.core.checklist import Checklist
    from predeploy_tui.engine.session_file import Opened

HELP = "start a new session of a checklist"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("checklist", metavar="CHECKLIST", help="checklist YAML file")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a checklist variable (repeatable)")
    p.add_argument("--vars", metavar="FILE", help=VARS_FILE_HELP)
    p.add_argument("--deployer", help="who deploys (default: git user.name, else login name)")
    p.add_argument("--reviewer", default="", help="who reviews")
    p.add_argument("--major", action="store_true", help="a major release (product owner must sign)")
    p.add_argument("--session", metavar="PATH",
                   help="session file (default sessions/<checklist>-<version>-<env>.toml, with "
                        "-2, -3... when taken); a PATH that exists is refused")
    p.add_argument("--no-ui", action="store_true", help="create the session file and exit")


def create(checklist: Checklist, checklist_file: Path, *, variables: dict[str, str],
           deployer: str | None, reviewer: str = "", major: bool = False,
           session: Path | None = None) -> Opened:
    """Create, save and lock a session from the command line; the caller releases the lock.

    The file is named as ``engine.session_file`` says: ``session`` if given (refused if it
    exists), else the default name with the first free ``-N`` suffix.
    """
    from predeploy_tui.engine import session_file
    from predeploy_tui.engine.template import VARIABLE_ENV_PREFIX

    if deployer is not None and not deployer.strip():
        raise UsageError("--deployer needs a name")
    missing = [f"missing variable {v.name}: give "
               + (f"{VARIABLE_ENV_PREFIX}{v.name}=... in the environment" if v.secret
                  else f"--var {v.name}=...") + f" ({v.prompt})"
               for v in checklist.variables
               if v.required and not variables.get(v.name, v.default or "")]
    if missing:
        raise UsageError("; ".join(missing))
    header = session_file.default_header(
        checklist, variables, reviewer=reviewer, today=datetime.now().astimezone().date().isoformat(),
        deployer=deployer if deployer is not None else session_file.default_person())
    try:
        return session_file.create(checklist, checklist_file, variables=variables, header=header,
                                   now=datetime.now(UTC), flags={"major": major}, path=session)
    except session_file.SessionExists as exc:
        raise UsageError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    """With --no-ui: create the session and print where it was saved; else open the form."""
    from predeploy_tui.core.checklist import load_checklist

    checklist_file = existing_file(args.checklist, "checklist")
    checklist = load_checklist(checklist_file)
    session_path = Path(args.session) if args.session else None
    variables = with_vars_file(args.vars, parse_vars(args.var),
                               [v.name for v in checklist.variables],
                               [v.name for v in checklist.variables if v.secret])
    # A secret is refused on the command line; one set as PREDEPLOY_VAR_<name> is never saved.
    secrets = secret_values(variables, [v.name for v in checklist.variables if v.secret])
    if args.no_ui:
        opened = create(checklist, checklist_file, variables=variables, deployer=args.deployer,
                        reviewer=args.reviewer, major=args.major, session=session_path)
        opened.release()
        print(opened.path)
        return 0
    if refuse_without_terminal("new", "`predeploy new --no-ui` or `predeploy run`"):
        return 2
    from predeploy_tui.engine.session_file import SessionExists, default_person
    from predeploy_tui.tui.app import NewSessionRequest, PredeployApp
    from predeploy_tui.tui.keymap import KeymapError, load_keymap
    from predeploy_tui.tui.launch import run_app, session_maker

    try:
        keymap = load_keymap()
    except KeymapError as exc:
        raise UsageError(str(exc)) from None
    if session_path is not None and session_path.exists():
        raise UsageError(str(SessionExists(session_path)))  # said before the form, not after
    request = NewSessionRequest(
        checklist, session_maker(checklist, checklist_file, session_path=session_path),
        deployer=args.deployer if args.deployer is not None else default_person(),
        reviewer=args.reviewer, variables={**variables, **secrets}, major=args.major)
    return run_app(PredeployApp(new=request, keymap=keymap))
