#!/usr/bin/env python3
"""Provides a feature-flag check: one environment's flags validated against the team's rules.

The flags file (JSON) maps each environment to its flags; a flag is on/off (true/false) or a
rollout percentage (0-100)::

    {"production": {"new_player": true, "stem_export": 25, "debug_toolbar": false}}

The rules file (JSON) says, per environment, which flags must exist and which must hold a value::

    {"production": {"required": ["new_player"], "must_be": {"debug_toolbar": false}}}

A production flag that staging does not define was never tried there: that is a warning.

Python standard library only. The first line of output is the summary. Exit codes follow the
Nagios plugin convention: 0 the flags follow the rules, 1 they do but some production flags were
never on staging, 2 they break the rules, 3 nothing was checked (missing or unreadable file,
unknown environment, usage error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent


class UsageError(Exception):
    """A file is missing, unreadable, or not shaped as described."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 3 (UNKNOWN), not argparse's 2 (CRITICAL)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(3, f"{self.prog}: error: {message}\n")


def read_json(path: Path, what: str) -> Any:
    """The parsed JSON of ``path``, or a UsageError naming the file and the place."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} not found") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None


def flag_value_problem(name: str, value: Any) -> str | None:
    """Why a flag's value is not an on/off or a rollout percentage, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 0 <= value <= 100:
        return None
    return f"{name}: {json.dumps(value)} is neither true/false nor a rollout percentage 0-100"


def problems(flags: dict[str, Any], rules: dict[str, Any]) -> list[str]:
    """Everything about ``flags`` that breaks ``rules``."""
    found = [p for name, value in sorted(flags.items()) if (p := flag_value_problem(name, value))]
    for name in rules.get("required", []):
        if name not in flags:
            found.append(f"{name}: required but not defined")
    for name, wanted in sorted(rules.get("must_be", {}).items()):
        if name in flags and flags[name] != wanted:
            found.append(f"{name}: is {json.dumps(flags[name])}, must be {json.dumps(wanted)}")
        elif name not in flags and wanted is not False:
            found.append(f"{name}: must be {json.dumps(wanted)} but is not defined")
    return found


def main(argv: list[str] | None = None) -> int:
    """Check the flags of one environment and print each problem."""
    parser = Parser(
        prog="check_feature_flags.py",
        description="Validate one environment's feature flags against the team's rules.",
        epilog="Exit codes (Nagios convention): 0 the flags follow the rules, 1 some production "
               "flags were never on staging, 2 the flags break the rules, 3 usage error.")
    parser.add_argument("--env", required=True, help="environment to check, e.g. production")
    parser.add_argument("--flags", type=Path,
                        default=Path(os.environ.get("FEATURE_FLAGS_FILE", "configs/feature_flags.json")),
                        help="flags file (default: $FEATURE_FLAGS_FILE, else configs/feature_flags.json)")
    parser.add_argument("--rules", type=Path,
                        default=Path(os.environ.get("FEATURE_FLAG_RULES",
                                                    HERE / "feature_flags.rules.json")),
                        help="rules file (default: $FEATURE_FLAG_RULES, else "
                             "feature_flags.rules.json beside this script)")
    args = parser.parse_args(argv)
    try:
        all_flags = read_json(args.flags, "flags file")
        all_rules = read_json(args.rules, "rules file")
        if not isinstance(all_flags, dict) or not isinstance(all_rules, dict):
            raise UsageError("flags and rules files must each hold a JSON object keyed by environment")
        if args.env not in all_flags:
            raise UsageError(f"{args.flags} has no flags for {args.env!r} "
                             f"(it has: {', '.join(sorted(all_flags)) or 'none'})")
        flags, rules = all_flags[args.env], all_rules.get(args.env, {})
        if not isinstance(flags, dict) or not isinstance(rules, dict):
            raise UsageError(f"the {args.env!r} entries must be JSON objects")
    except UsageError as exc:
        print(f"check_feature_flags: {exc}", file=sys.stderr)
        return 3

    found = problems(flags, rules)
    staging = all_flags.get("staging")
    untried = sorted(set(flags) - set(staging)) \
        if args.env == "production" and isinstance(staging, dict) else []
    if found:
        print(f"{len(found)} problem(s) in {len(flags)} {args.env} flag(s)")
    elif untried:
        print(f"{len(flags)} {args.env} flag(s) follow the rules, but {len(untried)} "
              "never ran on staging")
    else:
        print(f"{len(flags)} {args.env} flag(s) follow the rules")
    for line in found:
        print(line)
    for name in untried:
        print(f"{name}: not defined on staging (never tried there)")
    return 2 if found else 1 if untried else 0


if __name__ == "__main__":
    sys.exit(main())
