#!/usr/bin/env python3
"""Provides an API key audit: keys in the team's inventory not rotated within N days are listed.

The inventory (JSON) records when each key was created and last rotated, never the key itself::

    {"keys": [{"name": "stripe-live", "owner": "payments", "created": "2024-01-10",
               "rotated": "2025-03-02"}]}

A key's age counts from ``rotated`` when present, else ``created`` (ISO dates or date-times; a
date-time without a zone is UTC). Any ``value`` / ``secret`` field is ignored and never printed.

Python standard library only. The first line of output is the summary. Exit codes follow the
Nagios plugin convention: 0 every key is young enough, 1 some are within ``--warn-days`` of the
limit, 2 some are too old or undated, 3 nothing was checked (missing or malformed inventory,
usage error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn


class UsageError(Exception):
    """The inventory is missing or not shaped as described."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 3 (UNKNOWN), not argparse's 2 (CRITICAL)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(3, f"{self.prog}: error: {message}\n")


def parse_when(text: str) -> datetime:
    """An ISO date or date-time as an aware UTC datetime."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def load_keys(path: Path) -> list[dict[str, Any]]:
    """The inventory's key records (a list, or an object with a ``keys`` list)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"inventory {path} not found") from None
    except OSError as exc:
        raise UsageError(f"cannot read inventory {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    keys = data.get("keys") if isinstance(data, dict) else data
    if not isinstance(keys, list) or not all(isinstance(k, dict) and "name" in k for k in keys):
        raise UsageError(f"{path}: expected a list of keys, each an object with a name")
    return keys


def main(argv: list[str] | None = None) -> int:
    """Audit the inventory and print the keys due for rotation."""
    parser = Parser(
        prog="audit_api_keys.py",
        description="List API keys in an inventory that were not rotated within N days.",
        epilog="Exit codes (Nagios convention): 0 all keys within the limit, 1 some close to it, "
               "2 some too old or undated, 3 usage error.")
    parser.add_argument("--inventory", type=Path,
                        default=Path(os.environ.get("API_KEY_INVENTORY", "configs/api_keys.json")),
                        help="inventory JSON (default: $API_KEY_INVENTORY, else configs/api_keys.json)")
    parser.add_argument("--max-age-days", type=int, default=90, metavar="N",
                        help="keys older than this many days are due (default 90)")
    parser.add_argument("--warn-days", type=int, default=14, metavar="N",
                        help="warn about keys this many days before they are due (default 14)")
    args = parser.parse_args(argv)
    if args.max_age_days < 0 or args.warn_days < 0:
        parser.error("--max-age-days and --warn-days cannot be negative")
    try:
        keys = load_keys(args.inventory)
    except UsageError as exc:
        print(f"audit_api_keys: {exc}", file=sys.stderr)
        return 3

    now = datetime.now(UTC)
    due: list[str] = []
    soon: list[str] = []
    for key in keys:
        name, owner = str(key["name"]), key.get("owner")
        stamp = key.get("rotated") or key.get("created")
        who = f" (owner: {owner})" if owner else ""
        if not stamp:
            due.append(f"{name}{who}: no created or rotated date")
            continue
        try:
            age = (now - parse_when(str(stamp))).days
        except ValueError:
            due.append(f"{name}{who}: unreadable date {stamp!r}")
            continue
        since = f"{age} days since {'rotation' if key.get('rotated') else 'creation'}"
        if age > args.max_age_days:
            due.append(f"{name}{who}: {since}")
        elif age > args.max_age_days - args.warn_days:
            soon.append(f"{name}{who}: {since}, due in {args.max_age_days - age} day(s)")

    if due:
        print(f"{len(due)} of {len(keys)} key(s) need rotation (limit {args.max_age_days} days)")
    elif soon:
        print(f"{len(soon)} of {len(keys)} key(s) due for rotation within {args.warn_days} days")
    else:
        print(f"all {len(keys)} key(s) rotated within {args.max_age_days} days")
    for line in due + soon:
        print(line)
    return 2 if due else 1 if soon else 0


if __name__ == "__main__":
    sys.exit(main())
