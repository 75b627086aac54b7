"""Provides ``predeploy export``: a session as markdown (the seed filled in), JSON or JUnit XML."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from predeploy_tui.commands import UsageError, existing_file, report_target

HELP = "export a session as markdown, JSON or JUnit XML"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file")
    p.add_argument("--format", choices=("markdown", "json", "junit"), default="markdown",
                   help="report format (default markdown)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    p.add_argument("--force", action="store_true",
                   help="replace FILE when it exists (a session file is never replaced)")


def section_titles(session_path: Path, checklist_path: str, sha256: str = "") -> dict[str, str]:
    """Section headings from the session's checklist, when it can still be read."""
    from predeploy_tui.core.checklist import ChecklistError, load_checklist
    from predeploy_tui.engine.session_file import checklist_file

    path = checklist_file(session_path, checklist_path, sha256)
    if path is None:
        return {}
    try:
        return {s.id: s.title for s in load_checklist(path).sections}
    except ChecklistError:
        return {}


def render(session_path: Path, fmt: str, now: datetime) -> str:
    """The report text."""
    from predeploy_tui.core import store

    session = store.load(session_path)
    if fmt == "json":
        from predeploy_tui.reports.jsonreport import to_json

        return json.dumps(to_json(session, now), indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        from predeploy_tui.reports.junit import to_junit_text

        return to_junit_text(session, now)
    from predeploy_tui.reports.markdown import to_markdown

    return to_markdown(session, now, session.section_titles
                       or section_titles(session_path, session.checklist_path,
                                         session.checklist_sha256))


def write_output(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` atomically; UsageError "FILE: cannot write: reason" otherwise."""
    from predeploy_tui.core.store import write_atomic

    try:
        write_atomic(out, text)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write: {exc.strerror or exc}") from None


def main(args: argparse.Namespace) -> int:
    """Write the report."""
    path = existing_file(args.session, "session")
    out = report_target(args.output, args.force, "-o") if args.output else None
    text = render(path, args.format, datetime.now(UTC))
    if out is not None:
        write_output(out, text)
    else:
        sys.stdout.write(text)
    return 0
