"""The session file: byte-stable round trips, located errors for hand edits, schema version."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.checklist import SignoffRole
from predeploy_tui.core.results import CheckResult, HistoryEntry, Status, Waiver
from predeploy_tui.core.session import Decision, ItemState, Session, SignOff
from predeploy_tui.core.store import SessionFileError
from predeploy_tui.core.vocab import ItemKind, Role, VerdictStatus

from .builders import T0, all_green, sign_all, tiny_session

# -- generated sessions ------------------------------------------------------------------------

NASTY = ["\r\n", "\r", "\n", "\t", "\x1b[31mred\x1b[0m", '"', '""', '"""', '""""', "\\", "\\\n",
         "\x00", "\x07", "\x7f", "\x1f", "é", "ß", "日本語", "🚀", "\u2028", "'''", "#", "[x]", " "]
"""Pieces that have broken TOML writers: line endings, escapes, quotes, controls, non-ASCII."""

PLAIN = ["ok", "TOTAL 83%", "deploy@prod", "a b", "x=1", "0", "true", "", "\u00a0", "Ω"]
# Mostly pieces (cheap to generate, the interesting cases), sometimes free text.
text = st.lists(st.sampled_from(NASTY + PLAIN), max_size=8).map("".join) | st.text(max_size=6)
short = st.sampled_from(["", "Ana", "Dana Deployer", "r\u00e9viewer", "x\ty"]) | st.text(max_size=4)
name = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
moment = st.integers(min_value=0, max_value=10**9).map(
    lambda us: T0 + timedelta(microseconds=us * 997))
maybe_moment = st.none() | moment
check_statuses = st.sampled_from([Status.PASS, Status.WARN, Status.FAIL, Status.ERROR,
                                  Status.SKIPPED, Status.BLOCKED])
HISTORY_STATUSES = [Status.DONE, Status.FAIL, Status.NA, Status.PENDING, Status.WAIVED]
"""What a person's change can set (stale is derived from the time, never stored)."""
json_data = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | short,
                         lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(short, inner, max_size=3), max_leaves=6)


@st.composite
def check_results(draw: st.DrawFn, depth: int = 0) -> CheckResult:
    started = draw(maybe_moment)
    hosts = () if depth else tuple(draw(st.lists(check_results(depth=1), max_size=2)))
    return CheckResult(
        status=draw(check_statuses), summary=draw(text), output=draw(text),
        exit_code=draw(st.none() | st.integers(-255, 2**31)),
        started=started,
        finished=None if started is None else started + timedelta(milliseconds=draw(
            st.integers(0, 10**6))),
        host=draw(st.none() | name), data=draw(st.none() | json_data), hosts=hosts,
        by=draw(short), role=draw(st.sampled_from(["deployer", "reviewer"])),
        output_truncated=draw(st.booleans()), output_sha256=draw(st.sampled_from(["", "ab" * 32])))


@st.composite
def item_states(draw: st.DrawFn, key: str) -> ItemState:
    kind = draw(st.sampled_from(["check", "manual", "action"]))
    waived = draw(st.booleans())
    at = draw(moment)
    status = Status.WAIVED if waived else draw(st.sampled_from(
        [s for s in Status if s not in (Status.STALE, Status.WAIVED)]))
    check = None if kind == "manual" else {
        "type": "shell", "run": draw(text), "timeout": draw(st.floats(0.5, 3600)),
        "expect": {"regex": draw(text), "ge": draw(st.integers(0, 100))}}
    return ItemState(
        key=key, title=draw(text), kind=kind, critical=draw(st.booleans()), section=key.split(".")[0],
        group=draw(text), depends_on=tuple(draw(st.lists(name, max_size=2))),
        fresh_for=draw(st.none() | st.floats(1, 10**6)), check=check, status=status,
        by=draw(short), at=draw(st.none() | st.just(at)), note=draw(text),
        runs=draw(st.lists(check_results(), max_size=3)),
        history=draw(st.lists(st.builds(HistoryEntry, st.sampled_from(HISTORY_STATUSES), short, moment,
                                        text), max_size=3)),
        waiver=Waiver(draw(text) or "because", draw(short) or "Ana", draw(short), at,
                      draw(maybe_moment)) if waived else None,
        review_note=draw(text), removed=draw(st.booleans()))


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    keys = draw(st.lists(st.tuples(name, name).map(".".join), unique=True, max_size=4))
    created = draw(moment)
    session = Session(
        checklist_id=draw(name), checklist_title=draw(text), checklist_path=draw(short),
        checklist_sha256="0" * 64, created=created, updated=created + timedelta(seconds=5),
        header={"date": "2026-03-01", "version": draw(short), "deployer": draw(text),
                "reviewer": draw(short)},
        flags={"major": draw(st.booleans())},
        variables=draw(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True),
                                       text, max_size=3)),
        secret_variables=tuple(draw(st.lists(name, max_size=2))),
        items={key: draw(item_states(key)) for key in keys},
        signoff_roles=[SignoffRole("engineering", draw(text), True),
                       SignoffRole("product", "Product", False, "major")],
        signoffs=[SignOff(draw(st.sampled_from(["engineering", "product"])), draw(text), draw(text)
                          or "Ana", draw(moment), draw(text), draw(st.sampled_from(["", "f" * 64])),
                          draw(st.dictionaries(name, st.just("e" * 64), max_size=2)), draw(text),
                          draw(short)) for _ in range(draw(st.integers(0, 2)))],
        decision=Decision(
            status=draw(st.sampled_from(["", "GO", "CONDITIONAL GO", "NO GO"])),
            suggested=draw(st.sampled_from(["", "GO", "NO GO"])), justification=draw(text),
            notes=draw(text), risk=draw(st.sampled_from(["", "low", "high"])),
            suggested_risk="medium", completed_by=draw(short), completed_at=draw(maybe_moment),
            reviewed_by=draw(short), reviewed_at=draw(maybe_moment), review_notes=draw(text),
            content_sha256=draw(st.sampled_from(["", "c" * 64])),
            covered=draw(st.dictionaries(name, st.just("d" * 64), max_size=2))),
    )
    return session


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_round_trip_is_byte_identical_and_faithful(session: Session) -> None:
    text = store.dumps(session)
    loaded = store.loads(text)
    assert store.dumps(loaded) == text
    # Field by field, so a failure names what was lost.
    for field in ("checklist_id", "checklist_title", "checklist_path", "checklist_sha256",
                  "created", "updated", "header", "flags", "variables", "secret_variables",
                  "signoff_roles", "signoffs", "decision", "schema"):
        assert getattr(loaded, field) == getattr(session, field), field
    assert list(loaded.items) == list(session.items)
    for key, state in session.items.items():
        assert loaded.items[key] == state, key
    assert loaded == session


def test_save_load_save_on_disk_keeps_crlf_and_controls(tmp_path: Path) -> None:
    session = all_green(tiny_session())
    output = 'line one\r\nline two\rlone CR\ttab \x1b[1mbold\x1b[0m """ \\ \x00 é 🚀\r\n'
    session.record_result("code.tests", CheckResult(Status.FAIL, "2 failed", output=output,
                                                    exit_code=1, started=T0, finished=T0), T0)
    path = tmp_path / "s.toml"
    first = store.save(session, path)
    assert path.read_bytes() == first.encode("utf-8")
    loaded = store.load(path)
    assert loaded.items["code.tests"].runs[-1].output == output
    assert "\r\n" in loaded.items["code.tests"].runs[-1].output
    store.save(loaded, path)
    assert path.read_text(encoding="utf-8") == first
    assert loaded == session


def test_file_is_readable_toml_with_utc_datetimes(tmp_path: Path) -> None:
    session = all_green(tiny_session())
    text = store.dumps(session)
    assert text.splitlines()[2] == "schema = 1"
    assert '[items."code.tests"]' in text
    assert "created = 2026-03-01T09:00:00Z" in text
    # Multi-line output stays multi-line (readable in a diff), CR escaped so CRLF survives.
    session.record_result("code.tests", CheckResult(Status.PASS, "ok", output="a\r\nb\n",
                                                    started=T0, finished=T0), T0)
    assert 'output = """\na\\r\nb\n"""' in store.dumps(session)


# -- refusing bad files ------------------------------------------------------------------------

def _saved(tmp_path: Path) -> tuple[Path, list[str]]:
    session = sign_all(all_green(tiny_session()))
    session.waive("code.coverage", "flaky tool", "Ana Approver", "Dana Deployer", T0)
    path = tmp_path / "session.toml"
    text = store.save(session, path)
    return path, text.splitlines()


def _line_of(lines: list[str], table: str, key: str) -> int:
    start = lines.index(table)
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(f"{key} ="):
            return i + 1
    raise AssertionError(f"{key} not in {table}")


def _edit(path: Path, lines: list[str], line: int, new: str | None) -> None:
    edited = list(lines)
    if new is None:
        del edited[line - 1]
    else:
        edited[line - 1] = new
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")


HAND_EDITS: list[tuple[str, str, str, str | None, str]] = [
    # (id, table, key, new line (None: delete it), message fragment)
    ("wrong-type", '[items."code.tests"]', "critical", 'critical = "yes"',
     "'critical' should be true or false"),
    ("unknown-status", '[items."code.tests"]', "status", 'status = "passed"',
     "unknown status 'passed'"),
    ("naive-datetime", "[session]", "created", "created = 2026-03-01T09:00:00",
     "must be a datetime with a time zone"),
    ("bad-toml", '[items."code.reviews"]', "title", 'title = "unterminated',
     "TOML syntax error"),
    ("newer-schema", "", "schema", "schema = 99", "newer than this predeploy understands"),
    ("no-schema", "", "schema", "schema = \"one\"", "missing or invalid 'schema'"),
    ("wrong-type-run", '[[items."code.tests".runs]]', "exit_code", 'exit_code = "zero"',
     "'exit_code' should be a whole number"),
    ("bad-decision", "[decision]", "status", 'status = "MAYBE"', "unknown decision 'MAYBE'"),
    ("typo-key", '[items."code.tests"]', "by", 'byy = "Dana Deployer"',
     "unknown key 'byy' (did you mean 'by'?)"),
    ("stored-stale", '[items."code.tests"]', "status", 'status = "stale"',
     "unknown status 'stale'"),
    ("unknown-header-field", "[header]", "reviewer", 'reveiwer = "Rae"',
     "unknown key 'reveiwer' (did you mean 'reviewer'?)"),
    ("flag-not-boolean", "[session.flags]", "major", 'major = "yes"',
     "'major' should be true or false"),
    ("variable-not-text", "[session.variables]", "version", "version = 1",
     "'version' should be text"),
    ("role-required-not-boolean", "[[roles]]", "required", 'required = "no"',
     "'required' should be true or false"),
    ("role-unknown-key", "[[roles]]", "title", 'titel = "Engineering"',
     "unknown key 'titel' (did you mean 'title'?)"),
    ("unknown-run-role", '[[items."code.tests".runs]]', "role", 'role = "auditor"',
     "unknown role 'auditor'; expected deployer or reviewer"),
    ("unknown-kind", '[items."code.tests"]', "kind", 'kind = "chek"',
     "unknown kind 'chek'; expected check, manual or action"),
]


def test_a_loaded_session_holds_the_vocabulary_not_bare_strings(tmp_path: Path) -> None:
    session = sign_all(all_green(tiny_session()))
    session.decide(Decision(status="GO", suggested="GO"), T0)
    store.save(session, tmp_path / "s.toml")
    loaded = store.load(tmp_path / "s.toml")
    assert {type(s.kind) for s in loaded.items.values()} == {ItemKind}
    assert {type(r.role) for s in loaded.items.values() for r in s.runs} == {Role}
    assert type(loaded.decision.status) is VerdictStatus
    assert all(type(r) is SignoffRole for r in loaded.signoff_roles)


@pytest.mark.parametrize(("table", "key", "new", "fragment"), [c[1:] for c in HAND_EDITS],
                         ids=[c[0] for c in HAND_EDITS])
def test_hand_edited_file_gets_located_errors_and_is_not_modified(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, key: str, new: str | None,
        fragment: str) -> None:
    path, lines = _saved(tmp_path)
    line = 3 if key == "schema" else _line_of(lines, table, key)
    _edit(path, lines, line, new)
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns

    with pytest.raises(SessionFileError) as caught:
        store.load(path)
    assert any(p.line == line and fragment in p.message for p in caught.value.problems), \
        [str(p) for p in caught.value.problems]

    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err
    assert fragment in err
    assert "Traceback" not in err
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


def test_waived_without_waiver_is_refused_at_its_status_line(tmp_path: Path) -> None:
    path, lines = _saved(tmp_path)
    start = lines.index('[items."code.coverage".waiver]')
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    edited = lines[:start] + lines[end:]
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    status_line = _line_of(edited, '[items."code.coverage"]', "status")
    with pytest.raises(SessionFileError) as caught:
        store.load(path)
    assert [(p.line, "waived item needs a [waiver]" in p.message)
            for p in caught.value.problems] == [(status_line, True)]


def test_several_problems_are_all_reported_in_line_order(tmp_path: Path) -> None:
    path, lines = _saved(tmp_path)
    first = _line_of(lines, "[session]", "updated")
    second = _line_of(lines, '[items."code.tests"]', "status")
    edited = list(lines)
    edited[first - 1] = "updated = 2026-03-01 09:00:00"
    edited[second - 1] = 'status = "great"'
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    with pytest.raises(SessionFileError) as caught:
        store.load(path)
    assert [p.line for p in caught.value.problems] == [first, second]


def test_problems_in_arrays_of_tables_point_at_the_right_entry(tmp_path: Path) -> None:
    session = sign_all(all_green(tiny_session()))
    session.record_result("code.tests", CheckResult(
        Status.FAIL, "2 of 3 hosts", started=T0, finished=T0, hosts=(
            CheckResult(Status.PASS, "ok", host="a"), CheckResult(Status.FAIL, "down", host="b"))),
        T0)
    path = tmp_path / "s.toml"
    lines = store.save(session, path).splitlines()
    second_signoff = [i for i, line in enumerate(lines) if line == "[[signoffs]]"][1]
    at_line = next(i for i in range(second_signoff, len(lines)) if lines[i].startswith("at ="))
    second_run = [i for i, line in enumerate(lines) if line == '[[items."code.tests".runs]]'][1]
    status_line = next(i for i in range(second_run, len(lines)) if lines[i].startswith("status"))
    second_host = [i for i, line in enumerate(lines)
                   if line == '[[items."code.tests".runs.hosts]]'][1]
    host_line = next(i for i in range(second_host, len(lines)) if lines[i].startswith("status"))
    lines[at_line] = "at = 2026-03-01T09:00:00"
    lines[status_line] = 'status = "passt"'
    lines[host_line] = 'status = "dwon"'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SessionFileError) as caught:
        store.load(path)
    assert [p.line for p in caught.value.problems] == sorted([at_line + 1, status_line + 1,
                                                              host_line + 1])


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'schema = 1\n[header]\ndeployer = "Jos\xe9"\n')
    with pytest.raises(SessionFileError) as caught:
        store.load(bad)
    assert caught.value.problems[0].line == 3
    with pytest.raises(SessionFileError, match="cannot read"):
        store.load(tmp_path / "absent.toml")


def test_saving_refuses_naive_datetimes_before_touching_the_file(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    before = path.read_bytes()
    session = store.load(path)
    session.updated = datetime(2026, 3, 1, 10, 0)
    with pytest.raises(ValueError, match="timezone"):
        store.save(session, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_loaded_datetimes_are_utc(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    session = store.load(path)
    assert session.created.utcoffset() == timedelta(0)
    assert session.created == T0
    assert isinstance(session.items["code.tests"].runs[0].finished, datetime)

