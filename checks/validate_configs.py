#!/usr/bin/env python3
"""Provides a configuration check: every YAML, JSON and TOML file in the given folders must parse.

Syntax errors are printed as ``file:line:column: message`` after a one-line summary. Python
standard library only, except YAML, which needs PyYAML: without it the YAML files are listed as
unchecked.

Exit codes follow the Nagios plugin convention: 0 every file parses, 1 every file checked parses
but some could not be checked (PyYAML or tomllib missing), 2 some files do not parse, 3 nothing
was checked (a usage error or a missing folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: TOML files are reported as unchecked
    tomllib = None  # type: ignore[assignment]

try:
    import yaml
except ModuleNotFoundError:  # PyYAML is not in the standard library
    yaml = None  # type: ignore[assignment]

KINDS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 3 (UNKNOWN), not argparse's 2 (CRITICAL)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(3, f"{self.prog}: error: {message}\n")


def files_in(folder: Path) -> Iterator[Path]:
    """Configuration files under ``folder``, in a stable order, skipping hidden folders."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.is_file() and path.suffix.lower() in KINDS:
            yield path


def problem(path: Path, kind: str, text: str) -> str | None:
    """``line:column: message`` for a file that does not parse, or None when it does."""
    if kind == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return f"{exc.lineno}:{exc.colno}: {exc.msg}"
    elif kind == "toml":
        assert tomllib is not None
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib puts the position in the message: "... (at line 3, column 7)"
            message = str(exc)
            line, column = 1, 1
            if "(at line " in message:
                where = message.rsplit("(at line ", 1)[1].rstrip(")")
                line_text, _, column_text = where.partition(", column ")
                line, column = int(line_text), int(column_text or 1)
                message = message.rsplit(" (at line ", 1)[0]
            return f"{line}:{column}: {message}"
    else:
        assert yaml is not None
        try:
            list(yaml.safe_load_all(text))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
            return f"{where}: {exc.problem or exc.context or 'invalid YAML'}"
        except yaml.YAMLError as exc:
            return f"1:1: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Check the folders named on the command line and print what is wrong."""
    parser = Parser(
        prog="validate_configs.py",
        description="Parse every YAML, JSON and TOML file under the folders and report syntax "
                    "errors as file:line:column.",
        epilog="Exit codes (Nagios convention): 0 all parse, 1 some files unchecked (PyYAML or "
               "tomllib missing), 2 syntax errors, 3 usage error.")
    parser.add_argument("folders", nargs="*", default=["configs"], metavar="FOLDER",
                        help="folders to check (default: configs)")
    args = parser.parse_args(argv)

    checked = 0
    errors: list[str] = []
    unchecked: list[str] = []
    for name in args.folders:
        folder = Path(name)
        if not folder.is_dir():
            print(f"validate_configs: {name}: no such folder", file=sys.stderr)
            return 3
        for path in files_in(folder):
            kind = KINDS[path.suffix.lower()]
            if (kind == "yaml" and yaml is None) or (kind == "toml" and tomllib is None):
                unchecked.append(str(path))
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(f"{path}:1:1: cannot read: {exc}")
                continue
            checked += 1
            found = problem(path, kind, text)
            if found:
                errors.append(f"{path}:{found}")

    summary = f"{checked} file(s) checked, {len(errors)} with errors"
    if unchecked:
        summary += f"; {len(unchecked)} not checked (PyYAML or tomllib missing)"
    print(summary)
    for line in errors:
        print(line)
    if unchecked:
        print("not checked: " + ", ".join(unchecked))
    if errors:
        return 2
    return 1 if unchecked else 0


if __name__ == "__main__":
    sys.exit(main())
