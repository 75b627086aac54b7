"""Provides ``predeploy commit``: commit a session file to git, refusing one that holds a secret."""

from __future__ import annotations

import argparse
import math

from predeploy_tui.commands import UsageError, existing_file

HELP = "git add + commit a session file (refused if it holds a secret)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file inside a git repository")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="limit for all git calls together (default 30)")


def main(args: argparse.Namespace) -> int:
    """Commit and print the commit id."""
    from predeploy_tui.engine.git import CommitRefused, commit_with_message

    path = existing_file(args.session, "session")
    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise UsageError(f"--timeout must be a number of seconds above 0, not {args.timeout:g}")
    try:
        commit = commit_with_message(path, timeout=args.timeout)
    except CommitRefused as exc:
        raise UsageError(f"not committed: {exc}") from None
    print(f"{commit.id} {commit.message}")
    return 0
