"""Provides ``predeploy diff``: what changed since the previous release's session."""

from __future__ import annotations

import argparse
import math

from predeploy_tui.commands import UsageError, existing_file

HELP = ("compare two sessions: status changes, new failures and waivers, thresholds, baselines, "
        "sign-offs and the decision")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("old", metavar="OLD", help="the earlier session (previous release)")
    p.add_argument("new", metavar="NEW", help="the later session")
    p.add_argument("--slower-pct", type=float, default=20.0, metavar="N",
                   help="report baseline rows whose metric grew by more than N%% (default 20)")


def main(args: argparse.Namespace) -> int:
    """Print the comparison; exit 0 either way (it informs, it does not judge)."""
    from predeploy_tui.core import store
    from predeploy_tui.core.compare import compare

    if not math.isfinite(args.slower_pct) or args.slower_pct < 0:
        raise UsageError(f"--slower-pct must be a finite number, 0 or more, not {args.slower_pct:g}")
    old_path, new_path = existing_file(args.old, "session"), existing_file(args.new, "session")
    old, new = store.load(old_path), store.load(new_path)
    from predeploy_tui.core.terminal import printable

    for line in compare(old, new, slower_pct=args.slower_pct, old_name=str(old_path),
                        new_name=str(new_path)).lines():
        print(printable(line))
    return 0
