"""Provides ``predeploy verify``: has the session changed since it was signed off or decided?

Exit 0 when intact; 1 when covered content changed after a sign-off or the decision (stale), an
approval was tampered with (its record edited, its hashes missing or edited, an approval
removed, added, duplicated or reordered: see ``core.integrity``), or a signature is bad or
required and missing; 2 when the file is unreadable. Internal errors never exit 1 (cli.py).
Checklist drift is reported too (it changes nothing that was signed). The suggested verdict is
printed as every other surface gives it, and plugin files or site scripts changed since the
deployer's runs executed them are listed; neither changes the exit code.
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
    findings = {f.what: f for f in integrity.check(session)}
    print(f"  content sha256 {integrity.content_hash(session)}")
    allowed = Path(args.allowed_signers) if args.allowed_signers else signing.allowed_signers_file(
        checklist.allowed_signers if checklist is not None else None,
        checklist.folder if checklist is not None else path.parent)
    required_sigs = bool(checklist is not None and checklist.require_signatures)
    bad_signature = False
    if not session.signoffs:
        print("  no sign-offs yet")
    for i, s in enumerate(session.signoffs):
        what = integrity.signoff_key(session, i)
        latest = "#" not in what
        head = f"  sign-off {s.role}{'' if latest else ' (superseded)'}: {s.title or s.role} " \
               f"by {s.name}"
        _report(head, findings.get(what), session, "signed")
        if not latest:
            continue
        if s.signature:
            if allowed is None:
                print("    signature present but no allowed_signers file to verify it against")
                bad_signature = bad_signature or required_sigs
            else:
                result = signing.verify(signing.message(s.content_sha256), s.signature, allowed)
                print(f"    signature: {'good' if result.valid else 'BAD'}: {result.reason}")
                bad_signature = bad_signature or not result.valid
        elif required_sigs:
            print("    signature: MISSING (the checklist requires signed sign-offs)")
            bad_signature = True
    d = session.decision
    if "decision" in findings or d.status:
        _report(f"  decision {d.status or '(none)'}", findings.get("decision"), session, "made")
    if integrity.chained(session):
        _report("  approvals (which exist, in which order)", findings.get("approvals"), session,
                "made")
    elif session.signoffs or d.status:
        print("  approval chain: not recorded (sealed by an older predeploy): each approval is "
              "verified on its own; a removed or reordered one cannot be detected")
    print("  not covered by the seal: " + "; ".join(integrity.UNSEALED))
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
    tampered = any(f.tampered for f in findings.values())
    if tampered:
        print("NOT INTACT: tampered (an approval's record or the approval chain was edited)")
    elif findings:
        print("NOT INTACT: changed after sign-off")
    elif bad_signature:
        print("NOT INTACT: signature")
    else:
        print("intact")
    return 1 if findings or bad_signature else 0


def _report(head: str, finding: Any, session: Any, made: str) -> None:
    """One approval's line, then what changed (stale) and how it was tampered with."""
    from predeploy_tui.core.integrity import describe_part

    if finding is None:
        print(f"{head}: intact")
        return
    state = "TAMPERED" if finding.tampered else f"CHANGED since it was {made} (stale)"
    print(f"{head}: {state}")
    for why in finding.tampered:
        print(f"    tampered: {why}")
    for part in finding.changed:
        print(f"    changed: {describe_part(part, session)}")
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
