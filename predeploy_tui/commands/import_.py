"""Provides ``predeploy import``: a markdown checklist (like the seed) turned into checklist YAML."""

from __future__ import annotations

import argparse
import sys

from predeploy_tui.commands import UsageError, existing_file, report_target

HELP = "turn a markdown checklist into checklist YAML (guesses are commented)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("markdown", metavar="CHECKLIST.md",
                   help="markdown checklist: - [ ] items, numbered steps or a table of checks")
    p.add_argument("-o", "--output", metavar="FILE", help="write the YAML here (default: stdout)")
    p.add_argument("--force", action="store_true",
                   help="overwrite FILE if it exists (a session file is never replaced)")


def main(args: argparse.Namespace) -> int:
    """Import, validate and write the YAML."""
    from predeploy_tui.commands.export import write_output
    from predeploy_tui.reports.importer import MAX_BYTES, ImportProblem, to_yaml

    path = existing_file(args.markdown, "markdown")
    if path.stat().st_size > MAX_BYTES:
        raise UsageError(f"{path}: larger than {MAX_BYTES // 1_000_000} MB; not a checklist")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: the file is not UTF-8 text") from None
    try:
        yaml_text = to_yaml(text, path.name)
    except ImportProblem as exc:
        raise UsageError(str(exc)) from None
    if args.output:
        out = report_target(args.output, args.force, "-o")
        write_output(out, yaml_text)
        sys.stderr.write(f"wrote {out}\n")
    else:
        sys.stdout.write(yaml_text)
    return 0
