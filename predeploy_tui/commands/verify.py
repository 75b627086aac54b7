"""Provides ``predeploy verify``: has the session changed since it was signed off or decided?

Exit 0 when intact; 1 when covered content or a sign-off's own record changed after a sign-off
or the decision, a sign-off or the decision records no content hash (nothing to verify it
against), or a signature is bad or required and missing; 2 when the file is unreadable; an
internal error has its own code (70, see ``predeploy --help``), never 1. Checklist drift is
reported too (it changes nothing that was signed), and so is the suggested verdict, as every
other surface gives it (it does not change the exit code).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from predeploy_tui.commands import existing_file

HELP = "check a session's sign-offs and decision still match its content (exit 1 if not)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file")
    p.add_argument("--allowed-signers", metavar="FILE",
                   help="OpenSSH allowed_signers file (default: the checklist's, else git's "
                        "gpg.ssh.allowedSignersFile)")


def _checklist(session_path: Path, stored: str, sha256: str) -> tuple[Any, str]:
    from predeploy_tui.core.checklist import ChecklistError, load_checklist
    from predeploy_tui.engine.session_file import locate_checklist

    located = locate_checklist(session_path, stored, sha256)
    path = located.path
    if path is None:
        return None, "the session does not name its checklist"
    if not path.exists():
        return None, f"checklist {stored} not found: drift not checked"
    if located.note:
        print(f"  {located.note}")
    try:
        return load_checklist(path), ""
    except ChecklistError as exc:
        return None, f"checklist {stored} does not load ({exc.problems[0].message}): drift not checked"


def main(args: argparse.Namespace) -> int:
    """Print what was verified; the exit code says whether it is intact."""
    from predeploy_tui.core import integrity, store
    from predeploy_tui.core.drift import drift
    from predeploy_tui.engine import signing

    path = existing_file(args.session, "session")
    session = store.load(path)
    print(f"{path}: {session.checklist_title} {session.header.get('version', '')}".rstrip())
    checklist, why = _checklist(path, session.checklist_path, session.checklist_sha256)
    bad = False
    findings = {f.what: f for f in integrity.check(session)}
    print(f"  content sha256 {integrity.content_hash(session)}")
    allowed = Path(args.allowed_signers) if args.allowed_signers else signing.allowed_signers_file(
        checklist.allowed_signers if checklist is not None else None,
        checklist.folder if checklist is not None else path.parent)
    required_sigs = bool(checklist is not None and checklist.require_signatures)
    latest = [s for role in dict.fromkeys(x.role for x in session.signoffs)
              if (s := session.signoff(role)) is not None]
    if not latest:
        print("  no sign-offs yet")
    for s in latest:
        finding = findings.get(f"signoff:{s.role}")
        head = f"  sign-off {s.role}: {s.title or s.role} by {s.name}"
        if not s.content_sha256:
            print(f"{head}: records no content hash (made by an older tool?): cannot be verified")
            bad = True
        elif finding is None:
            print(f"{head}: intact")
        else:
            bad = True
            print(f"{head}: CHANGED since it was signed")
            _explain(finding, session)
        if s.signature:
            if allowed is None:
                print("    signature present but no allowed_signers file to verify it against")
                bad = bad or required_sigs
            else:
                result = signing.verify(signing.message(s.content_sha256), s.signature, allowed)
                print(f"    signature: {'good' if result.valid else 'BAD'}: {result.reason}")
                bad = bad or not result.valid
        elif required_sigs:
            print("    signature: MISSING (the checklist requires signed sign-offs)")
            bad = True
    d = session.decision
    if d.status:
        finding = findings.get("decision")
        if not d.content_sha256:
            print(f"  decision {d.status}: records no content hash: cannot be verified")
            bad = True
        elif finding is None:
            print(f"  decision {d.status}: intact")
        else:
            bad = True
            print(f"  decision {d.status}: CHANGED since it was made")
            _explain(finding, session)
    if checklist is None:
        print(f"  {why}")
    else:
        found = drift(session, checklist)
        if found:
            print(f"  checklist drift ({checklist.path} changed since the session began):")
            for line in found.lines():
                print(f"    {line}")
        elif found.checklist_changed:
            print("  checklist file changed since the session began, but no item did")
        else:
            print("  checklist unchanged")
    _site_code(session, path)
    from predeploy_tui.core.verdict import suggest

    print(f"  Suggested: {suggest(session, datetime.now(UTC)).line()}")
    print("NOT INTACT" if bad else "intact")
    return 1 if bad else 0


def _explain(finding: Any, session: Any) -> None:
    from predeploy_tui.core.integrity import describe_part

    for part in finding.changed:
        print(f"    changed: {describe_part(part, session)}")
    if finding.record_changed:
        print("    changed: the approval's own record (who, when, what was approved)")
    if finding.unknown:
        print("    changed: content (no per-part hashes were stored to say where)")


def _site_code(session: Any, path: Path) -> None:
    """Say which plugin files and site scripts changed since the deployer's runs executed them.

    This is about the code beside the record, not the record: it changes no exit code.
    """
    from predeploy_tui.core.provenance import deployer_code_changes
    from predeploy_tui.engine.session_file import checklist_file

    checklist = checklist_file(path, session.checklist_path, session.checklist_sha256)
    if checklist is None:
        return
    changed = deployer_code_changes(session.items.values(), checklist.parent)
    if not changed:
        return
    print("  site code changed since the deployer's runs (plugins, site scripts):")
    for change in changed:
        print(f"    {change.line()}")
