"""Provides ``predeploy schema``: the checklist format as JSON Schema, for editors."""

from __future__ import annotations

import argparse
import json

HELP = "print the JSON Schema of the checklist format (for yaml-language-server)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def main(args: argparse.Namespace) -> int:
    """Print or write the schema."""
    from pathlib import Path

    from predeploy_tui.core.checklist import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
