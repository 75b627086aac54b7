"""Provides ``predeploy validate``: check checklist files and report every problem."""

from __future__ import annotations

import argparse
import sys

from predeploy_tui.commands import existing_file

HELP = ("check checklist files (hosts against the ssh_config, offline); every problem is "
        "printed as file:line:column")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("files", nargs="+", metavar="FILE", help="checklist YAML files")


def main(args: argparse.Namespace) -> int:
    """Validate each file; exit 2 if any has a problem."""
    from predeploy_tui.core.checklist import ChecklistError, load_checklist
    from predeploy_tui.engine.hostnames import inventory_problem, known_hosts

    bad = 0
    for name in args.files:
        try:
            existing_file(name, "checklist")
            checklist = load_checklist(name, known_hosts)
        except ChecklistError as exc:
            bad += 1
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
            continue
        except Exception as exc:
            bad += 1
            sys.stderr.write(f"predeploy: {exc}\n")
            continue
        for warning in checklist.warnings:
            sys.stderr.write(f"{warning}\n")
        if checklist.inventory is not None:
            unreadable = inventory_problem(checklist.folder / checklist.inventory)
            if unreadable is not None:
                sys.stderr.write(f"{name}: warning: the inventory cannot be read, so every check on "
                                 f"its groups will be an error: {unreadable}\n")
        count = sum(1 for _ in checklist.items())
        print(f"{name}: ok ({len(checklist.sections)} sections, {count} items)")
    return 2 if bad else 0
