"""Provides the JUnit XML report of a session, for CI systems: one test case per item.

One ``<testsuite>`` per section (classname = section id); fail -> ``<failure>``, error ->
``<error>``, anything not passed and not failed (pending, skipped, blocked, stale, waived) ->
``<skipped>`` with the reason; pass, warn, done and n/a pass. Each suite carries the suggested
verdict as the property ``predeploy.verdict`` (worded as on every other surface).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import ItemState, Session
from predeploy_tui.core.verdict import suggest

# XML 1.0 cannot hold most control characters (ANSI colour codes among them), even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", value)


def _case(state: ItemState, status: Status) -> tuple[ET.Element, str]:
    result = state.result
    case = ET.Element("testcase", {"classname": _text(state.section or "checklist"),
                                   "name": _text(f"{state.title} [{state.key}]")})
    duration = result.duration if result is not None else None
    case.set("time", f"{max(duration or 0.0, 0.0):.3f}")
    summary = _text(result.summary if result is not None else "")
    outcome = "passed"
    if status is Status.FAIL:
        outcome = "failure"
        node = ET.SubElement(case, "failure", {"message": summary or "failed", "type": "fail"})
        node.text = _text(result.output if result is not None else state.note)
    elif status is Status.ERROR:
        outcome = "error"
        node = ET.SubElement(case, "error", {"message": summary or "could not be checked",
                                             "type": "error"})
        node.text = _text(result.output if result is not None else "")
    elif not status.passed:
        outcome = "skipped"
        reason = status.value
        if status is Status.WAIVED and state.waiver is not None:
            reason = f"waived: {state.waiver.reason} (approved by {state.waiver.approver})"
        elif summary:
            reason = f"{status.value}: {summary}"
        ET.SubElement(case, "skipped", {"message": _text(reason)})
    if result is not None and result.output and outcome in ("passed", "skipped"):
        ET.SubElement(case, "system-out").text = _text(result.output)
    if state.note:
        ET.SubElement(case, "system-err").text = _text(f"note: {state.note}")
    return case, outcome


def to_junit(session: Session, now: datetime) -> ET.Element:
    """The session as a JUnit XML tree (its ``<testsuites>`` root)."""
    root = ET.Element("testsuites", {"name": _text(session.checklist_title)})
    suites: dict[str, ET.Element] = {}
    totals = {"tests": 0, "failure": 0, "error": 0, "skipped": 0}
    per_suite: dict[str, dict[str, float]] = {}
    stamp = session.updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    verdict = suggest(session, now).line()
    for state, status in session.effective(now):
        name = state.section or "checklist"
        if name not in suites:
            suites[name] = ET.SubElement(root, "testsuite", {"name": _text(name),
                                                             "timestamp": stamp})
            properties = ET.SubElement(suites[name], "properties")
            ET.SubElement(properties, "property", {"name": "predeploy.verdict",
                                                   "value": _text(verdict)})
            per_suite[name] = {"tests": 0, "failure": 0, "error": 0, "skipped": 0, "time": 0.0}
        case, outcome = _case(state, status)
        suites[name].append(case)
        counts = per_suite[name]
        counts["tests"] += 1
        counts["time"] += float(case.get("time", "0"))
        totals["tests"] += 1
        if outcome != "passed":
            counts[outcome] += 1
            totals[outcome] += 1
    for name, suite in suites.items():
        c = per_suite[name]
        suite.set("tests", str(int(c["tests"])))
        suite.set("failures", str(int(c["failure"])))
        suite.set("errors", str(int(c["error"])))
        suite.set("skipped", str(int(c["skipped"])))
        suite.set("time", f"{c['time']:.3f}")
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failure"]))
    root.set("errors", str(totals["error"]))
    root.set("skipped", str(totals["skipped"]))
    ET.indent(root)
    return root


def to_junit_text(session: Session, now: datetime) -> str:
    """The JUnit XML as text, with the XML declaration."""
    body = ET.tostring(to_junit(session, now), encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_junit(session: Session, path: Path) -> None:
    """Write the session's JUnit XML to ``path`` (judged at the session's last update)."""
    from predeploy_tui.core.store import write_atomic

    write_atomic(Path(path), to_junit_text(session, session.updated))
