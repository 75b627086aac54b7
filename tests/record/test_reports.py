"""Reports of a finished demo session: markdown like the seed, JSON against its schema, JUnit."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Session
from predeploy_tui.reports.jsonreport import schema_path, to_json
from predeploy_tui.reports.junit import write_junit
from predeploy_tui.reports.markdown import to_markdown

from .demo import at, finished_session

NOW = at(60)


def test_markdown_fills_in_the_seed_layout(session: Session) -> None:
    text = to_markdown(session, NOW, {"local": "Local Machine", "network": "Network",
                                      "release": "Release"})
    lines = text.splitlines()
    assert lines[0] == "# Demo Pre-Deployment Checklist"
    assert "**Date**: 2024-05-01  " in lines
    assert "**Deployment Version**: 1.4.2  " in lines
    assert "**Deployer**: Ana Deployer  " in lines
    assert "**Reviewer**: Rui Reviewer" in lines
    assert "## 1. Local Machine" in lines
    assert "### Tools" in lines
    assert any(x.startswith("- [x] Python 3.11 or newer available — ✔ **PASS**") for x in lines)
    assert any(x.startswith("- [ ] Deliberately failing check") and "WAIVED" in x for x in lines)
    assert "  - Waived: replica set scales after deploy (approved by Bo Approver)" in lines
    assert "  - Note: root volume only" in lines
    assert "- [x] Engineering lead approval" in lines
    assert "  - Name: Eve Lead" in lines
    assert "  - Date: 2024-05-01 09:40 UTC" in lines
    assert "- [x] ⚠️ **CONDITIONAL GO** - Minor issues noted, proceed with caution" in lines
    assert "- [ ] ✅ **GO** - All checks passed, proceed with deployment" in lines
    assert "broken check waived; watch replicas" in lines
    assert "- [x] **Medium Risk**: Some warnings, increased monitoring needed" in lines
    assert "**Checklist Completed By**: Ana Deployer  " in lines
    assert "**Date/Time**: 2024-05-01 09:41 UTC  " in lines
    # sections in order, items in session order
    positions = [text.index(s.title) for s in session.items.values()]
    assert positions == sorted(positions)


def test_markdown_nests_sub_items_and_keeps_fences_intact() -> None:
    session = finished_session()
    state = session.items["local.uname"]
    session.items = {**session.items}
    child = type(state)(key="local.uname.child", title="Sub-item", kind="manual", section="local",
                        group=state.group)
    items = list(session.items.items())
    items.insert(2, (child.key, child))
    session.items = dict(items)
    session.record_result("local.python", CheckResult(Status.FAIL, "bad", "```\nfence\n```\n", 1,
                                                      at(1), at(2)), at(2))
    text = to_markdown(session, NOW)
    assert "  - [ ] Sub-item — ○ **PENDING**" in text.splitlines()
    assert "````text" in text


def test_json_report_is_complete_and_valid_against_its_schema(session: Session) -> None:
    report = to_json(session, NOW)
    schema = json.loads(schema_path().read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert [i["key"] for i in report["items"]] == list(session.items)
    assert report["verdict"]["status"] == "CONDITIONAL GO"
    assert report["integrity"]["intact"] is True
    assert report["signoffs"][0]["name"] == "Eve Lead"
    waived = next(i for i in report["items"] if i["key"] == "network.broken")
    assert waived["waiver"]["approver"] == "Bo Approver"
    uname = next(i for i in report["items"] if i["key"] == "local.uname")
    assert [r["role"] for r in uname["runs"]] == ["deployer", "reviewer"]
    # a tampered session says so, and still validates
    session.items["local.python"].note = "later"
    report = to_json(session, NOW)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["integrity"]["intact"] is False
    assert report["integrity"]["findings"][0]["changed"] == ["item:local.python"]


def test_junit_has_one_case_per_item_and_maps_statuses(tmp_path: Path) -> None:
    session = finished_session(sign=False)
    session.record_result("local.memory", CheckResult(Status.ERROR, "free: not found", "\x1b[31m",
                                                      None, at(50), at(51)), at(51))
    session.record_result("network.broken", CheckResult(Status.FAIL, "replicas 1 < 3",
                                                        "replicas ready: 1 of 3", 1, at(52),
                                                        at(53)), at(53))
    session.set_manual("release.notes", Status.PENDING, "Ana", at(54))
    path = tmp_path / "junit.xml"
    write_junit(session, path)
    xml = JUnitXml.fromfile(str(path))
    cases = {case.name: (suite.name, case) for suite in xml for case in suite}
    assert len(cases) == len(session.items)
    assert {suite.name for suite in xml} == {"local", "network", "release"}
    outcome = {name.rsplit("[", 1)[1].rstrip("]"): case.result for name, (_, case) in cases.items()}
    assert isinstance(outcome["network.broken"][0], Failure)
    assert outcome["network.broken"][0].message == "replicas 1 < 3"
    assert isinstance(outcome["local.memory"][0], Error)
    assert isinstance(outcome["release.notes"][0], Skipped)
    assert outcome["local.python"] == []
    assert cases["Python 3.11 or newer available [local.python]"][1].classname == "local"
    network = next(s for s in xml if s.name == "network")
    assert (network.tests, network.failures, network.errors) == (3, 1, 0)


@pytest.mark.parametrize("fmt", ["markdown", "json", "junit"])
def test_export_command_writes_each_format(saved: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    assert main(["export", str(saved), "--format", fmt, "-o", str(out)]) == 0
    text = out.read_text()
    if fmt == "json":
        assert json.loads(text)["checklist"]["id"] == "demo"
    elif fmt == "junit":
        assert len(list(JUnitXml.fromfile(str(out)))) == 3
    else:
        assert "## 1. Local Machine" in text  # section titles from the checklist
    assert store.load(saved)  # the session file is untouched and readable


def test_export_of_a_missing_file_is_one_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path / "nope.toml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def unwritable_targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """-o targets that cannot be written, with the reason the message must give."""
    (tmp_path / "a-file").write_text("x")
    return {
        "folder": (tmp_path, "it is a folder"),
        "proc": (Path("/proc/predeploy-report"), ""),
        "missing parent": (tmp_path / "no" / "such" / "report.md", "does not exist"),
        "file as parent": (tmp_path / "a-file" / "report.md", "is not a folder"),
    }


@pytest.mark.parametrize("target", ["folder", "proc", "missing parent", "file as parent"])
@pytest.mark.parametrize("command", ["export", "import"])
def test_output_that_cannot_be_written_is_one_line(
        saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str,
        command: str) -> None:
    out, why = unwritable_targets(tmp_path)[target]
    markdown = tmp_path / "list.md"
    markdown.write_text("# Release\n\n- [ ] Backups verified\n")
    source = saved if command == "export" else markdown
    assert main([command, str(source), "-o", str(out), *(["--force"] if command == "import"
                                                             else [])]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert f"{out}: cannot write: " in err
    assert why in err
    assert not (tmp_path / "no").exists()  # a missing folder is refused, never created
