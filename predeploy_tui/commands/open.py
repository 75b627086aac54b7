"""Provides ``predeploy open``: open a session file in the terminal app."""

from __future__ import annotations

import argparse
import os

from predeploy_tui.commands import (
    VARS_FILE_HELP,
    existing_file,
    parse_vars,
    refuse_without_terminal,
    secret_values,
    with_vars_file,
)

HELP = "open a session in the terminal app (review mode for a decided session)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file")
    p.add_argument("--review", action="store_true",
                   help="open as the reviewer: read-only evidence, review notes, reviewer re-runs")
    p.add_argument("--read-only", action="store_true", help="change nothing, save nothing")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a variable's value for re-runs (repeatable); secret ones come from "
                        "PREDEPLOY_VAR_<name> in the environment or the app's prompt")
    p.add_argument("--vars", metavar="FILE", help=VARS_FILE_HELP)
    p.add_argument("--as", dest="person", default="", metavar="NAME",
                   help="who is at the keyboard (default: the session's deployer or reviewer)")


def main(args: argparse.Namespace) -> int:
    """Open the app on the session."""
    from predeploy_tui.tui.pauses import hold_startup_collections, release_startup_collections

    hold_startup_collections()  # until the first screen is up (the app's settle_startup)
    try:
        return _open(args)
    finally:
        release_startup_collections()


def _open(args: argparse.Namespace) -> int:
    from predeploy_tui.commands import UsageError
    from predeploy_tui.engine.template import VARIABLE_ENV_PREFIX
    from predeploy_tui.tui.app import PredeployApp
    from predeploy_tui.tui.keymap import KeymapError, load_keymap
    from predeploy_tui.tui.launch import open_session, run_app

    path = existing_file(args.session, "session")
    given = parse_vars(args.var)
    if args.vars is not None or given \
            or any(name.startswith(VARIABLE_ENV_PREFIX) for name in os.environ):
        from predeploy_tui.core import store

        stored = store.load(path)
        given = with_vars_file(args.vars, given, stored.variables, stored.secret_variables)
        given |= secret_values(given, stored.secret_variables)
    if refuse_without_terminal("open", "`predeploy show` or `predeploy run`"):
        return 2
    try:
        keymap = load_keymap()
    except KeymapError as exc:
        raise UsageError(str(exc)) from None
    opened = open_session(path, review=args.review, read_only=args.read_only,
                          variables=given, person=args.person)
    return run_app(PredeployApp(opened, keymap=keymap))
