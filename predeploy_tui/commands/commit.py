"""Provides ``predeploy commit``: commit a session file to git, refusing one that holds a secret."""

from __future__ import annotations

import argparse

from predeploy_tui.commands import UsageError, existing_file

HELP = "git add + commit a session file (refused if it holds a secret)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file inside a git repository")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="limit for all git calls together (default 30)")


def main(args: argparse.Namespace) -> int:
    """Commit and print the commit id."""
    from predeploy_tui.engine.git import CommitRefused, commit_message, commit_session

    path = existing_file(args.session, "session")
    try:
        commit = commit_session(path, timeout=args.timeout)
    except CommitRefused as exc:
        raise UsageError(f"not committed: {exc}") from None
    print(f"{commit} {commit_message(path)}")
    return 0
