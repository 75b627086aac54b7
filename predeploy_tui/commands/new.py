"""Provides ``predeploy new``: start a session of a checklist."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from predeploy_tui.commands import (
    UsageError,
    default_person,
    existing_file,
    parse_vars,
    refuse_without_terminal,
    secret_values,
)

if TYPE_CHECKING:
    from predeploy_tui.core.checklist import Checklist

HELP = "start a new session of a checklist"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("checklist", metavar="CHECKLIST", help="checklist YAML file")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a checklist variable (repeatable)")
    p.add_argument("--deployer", help="who deploys (default: git user.name, else login name)")
    p.add_argument("--reviewer", default="", help="who reviews")
    p.add_argument("--major", action="store_true", help="a major release (product owner must sign)")
    p.add_argument("--session", metavar="PATH",
                   help="session file (default sessions/<checklist>-<version>-<env>.toml)")
    p.add_argument("--no-ui", action="store_true", help="create the session file and exit")


def create(args: argparse.Namespace, checklist: Checklist | None = None) -> tuple[Path, object]:
    """Create and save the session described by ``args``; returns its path and the session.

    ``checklist`` is ``args.checklist`` already loaded by the caller, saving a second parse.
    """
    from predeploy_tui import paths
    from predeploy_tui.core import store
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.core.session import new_session

    checklist_path = existing_file(args.checklist, "checklist")
    if args.deployer is not None and not args.deployer.strip():
        raise UsageError("--deployer needs a name")
    if checklist is None:
        checklist = load_checklist(checklist_path)
    variables = parse_vars(args.var)
    secret_values(variables, [v.name for v in checklist.variables if v.secret])
    now = datetime.now(UTC)
    version = variables.get("version") or next(
        (v.default or "" for v in checklist.variables if v.name == "version"), "")
    env = variables.get("env") or next(
        (v.default or "" for v in checklist.variables if v.name == "env"), "")
    path = Path(args.session) if args.session else paths.session_path_for(checklist.id, version, env)
    if path.exists():
        raise UsageError(f"{path} already exists; open it with `predeploy open {path}` or choose "
                         "another --session")
    header = {"date": datetime.now().astimezone().date().isoformat(), "version": version,
              "deployer": args.deployer if args.deployer is not None else default_person(),
              "reviewer": args.reviewer}
    from predeploy_tui.commands import relative_to_session

    session = new_session(checklist, variables, header, now, flags={"major": args.major},
                          checklist_path=relative_to_session(checklist_path, path))
    store.save(session, path)
    return path, session


def main(args: argparse.Namespace) -> int:
    """With --no-ui: create the session and print where it was saved; else open the form."""
    if args.no_ui:
        path, _ = create(args)
        print(path)
        return 0
    if refuse_without_terminal("new", "`predeploy new --no-ui` or `predeploy run`"):
        return 2
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.tui.app import NewSessionRequest, PredeployApp
    from predeploy_tui.tui.keymap import KeymapError, load_keymap
    from predeploy_tui.tui.launch import run_app, session_maker

    checklist_file = existing_file(args.checklist, "checklist")
    checklist = load_checklist(checklist_file)
    try:
        keymap = load_keymap()
    except KeymapError as exc:
        raise UsageError(str(exc)) from None
    session_path = Path(args.session) if args.session else None
    if session_path is not None and session_path.exists():
        raise UsageError(f"{session_path} already exists; open it with `predeploy open "
                         f"{session_path}` or choose another --session")
    given = parse_vars(args.var)
    given |= secret_values(given, [v.name for v in checklist.variables if v.secret])
    request = NewSessionRequest(
        checklist, session_maker(checklist, checklist_file, session_path=session_path),
        deployer=args.deployer if args.deployer is not None else default_person(),
        reviewer=args.reviewer, variables=given, major=args.major)
    return run_app(PredeployApp(new=request, keymap=keymap))
