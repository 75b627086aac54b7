"""Tamper evidence: every covered field of a signed session, changed, makes verify exit 1 and name it."""

from __future__ import annotations

import contextlib
import copy
import io
import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predeploy_tui.cli import main
from predeploy_tui.core import integrity, store
from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session

from .demo import finished_session

Mutation = tuple[str, str, Callable[[Session, str], None]]
"""(field path, what verify must name, change(session, extra text))."""


def _bump(value: Any, extra: str) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 + len(extra)
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        return value + (extra or "x")
    if hasattr(value, "tzinfo"):
        return value + timedelta(seconds=1 + len(extra))
    if value is None:
        return {"type": "shell", "run": "true" + extra}
    if isinstance(value, dict):
        return {**value, "tampered": extra or "x"}
    if isinstance(value, tuple):
        return (*value, "local.python")
    raise AssertionError(f"no mutation for {type(value)}")


def _set(obj: Any, name: str) -> Callable[[Session, str], None]:
    def change(session: Session, extra: str) -> None:
        target = obj(session)
        setattr(target, name, _bump(getattr(target, name), extra))
    return change


def _run_field(key: str, index: int, name: str) -> Callable[[Session, str], None]:
    def change(session: Session, extra: str) -> None:
        runs = session.items[key].runs
        value = getattr(runs[index], name)
        new = _bump(value, extra) if name != "status" else (
            Status.FAIL if value is not Status.FAIL else Status.PASS)
        if name == "data":
            new = {"value": 43, "extra": extra}
        if name == "host" and value is None:
            new = "db1" + extra
        runs[index] = replace(runs[index], **{name: new})
    return change


def mutations() -> list[Mutation]:
    """Every covered field of the finished demo session, with the name verify must print."""
    s = finished_session()
    out: list[Mutation] = []
    for name in ("checklist_id", "checklist_title", "checklist_sha256", "created"):
        out.append((f"session.{name}", "checklist identity", _set(lambda x: x, name)))
    for field in s.header:
        out.append((f"header.{field}", f"header.{field}",
                    lambda x, e, f=field: x.header.__setitem__(f, x.header[f] + (e or "x"))))
    for var in s.variables:
        out.append((f"variables.{var}", f"variables.{var}",
                    lambda x, e, v=var: x.variables.__setitem__(v, x.variables[v] + (e or "x"))))
    for flag in s.flags:
        out.append((f"flags.{flag}", f"flags.{flag}",
                    lambda x, e, f=flag: x.flags.__setitem__(f, not x.flags[f])))
    out.append(("roles.required", "sign-off roles",
                lambda x, e: x.signoff_roles.__setitem__(
                    0, replace(x.signoff_roles[0], required=False))))
    for key, state in s.items.items():
        who = f"item {key}"
        for name in ("title", "critical", "section", "group", "depends_on", "fresh_for", "check",
                     "by", "at", "note", "removed"):
            if name == "at" and state.at is None:
                continue
            out.append((f"{key}.{name}", who, _set(lambda x, k=key: x.items[k], name)))
        out.append((f"{key}.status", who, lambda x, e, k=key: setattr(
            x.items[k], "status", Status.ERROR)))
        out.append((f"{key}.kind", who, lambda x, e, k=key: setattr(
            x.items[k], "kind", "manual" if x.items[k].kind != "manual" else "check")))
        for i, run in enumerate(state.runs):
            if run.role == "reviewer":
                continue
            for name in ("status", "summary", "output", "exit_code", "started", "finished",
                         "host", "data", "by", "output_truncated", "output_sha256"):
                out.append((f"{key}.runs[{i}].{name}", who, _run_field(key, i, name)))
        for i, _ in enumerate(state.history):
            for name in ("by", "at", "note"):
                out.append((f"{key}.history[{i}].{name}", who,
                            _set(lambda x, k=key, i=i: x.items[k].history[i], name)))
        if state.waiver is not None:
            for name in ("reason", "approver", "by", "at"):
                out.append((f"{key}.waiver.{name}", who,
                            _set(lambda x, k=key: x.items[k].waiver, name)))
    for name in ("name", "at", "title", "comment", "role"):
        out.append((f"signoff.{name}", "own record", _set(lambda x: x.signoffs[0], name)))
    out.append(("decision.status", "own record", lambda x, e: setattr(x.decision, "status", "GO")))
    out.append(("decision.suggested", "own record",
                lambda x, e: setattr(x.decision, "suggested", "NO GO")))
    for name in ("notes", "risk", "justification", "completed_by", "completed_at"):
        out.append((f"decision.{name}", "own record", _set(lambda x: x.decision, name)))
    return out


MUTATIONS = mutations()


def verify(session: Session, folder: Path) -> tuple[int, str]:
    path = folder / "s.toml"
    store.save(session, path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(path)])
    return code, out.getvalue()


def test_untouched_session_verifies_after_a_load_save_round_trip(tmp_path: Path) -> None:
    session = finished_session()
    before = integrity.content_hash(session)
    code, text = verify(session, tmp_path)
    assert code == 0, text
    again = store.load(tmp_path / "s.toml")
    assert integrity.content_hash(again) == before
    store.save(again, tmp_path / "t.toml")
    assert store.dumps(store.load(tmp_path / "t.toml")) == (tmp_path / "t.toml").read_text()
    assert verify(again, tmp_path)[0] == 0


def test_mutations_cover_every_item_and_every_kind_of_field() -> None:
    keys = {m[0].split(".runs")[0].rsplit(".", 1)[0] for m in MUTATIONS}
    assert set(finished_session().items) <= keys
    assert len(MUTATIONS) > 150


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_field_changed_after_sign_off_is_named(tmp_path: Path, mutation: Mutation) -> None:
    _, expected, change = mutation
    session = finished_session()
    change(session, "!")
    code, text = verify(session, tmp_path)
    assert code == 1, text
    assert "NOT INTACT" in text
    assert expected in text


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(MUTATIONS) - 1), extra=st.text(min_size=1, max_size=20))
def test_any_change_with_any_text_is_caught(index: int, extra: str) -> None:
    path, expected, change = MUTATIONS[index]
    session = copy.deepcopy(BASE)
    change(session, extra)
    with tempfile.TemporaryDirectory() as folder:
        code, text = verify(session, Path(folder))
    assert code == 1, (path, text)
    assert expected in text


BASE = finished_session()


def test_reviewer_work_does_not_make_sign_offs_stale(tmp_path: Path) -> None:
    session = finished_session()
    session.items["local.disk"].review_note = "checked the volume myself"
    session.decision.reviewed_by = "Rui Reviewer"
    session.decision.review_notes = "fine"
    code, text = verify(session, tmp_path)
    assert code == 0, text
    assert integrity.stale_signoffs(session) == []


def test_stale_signoffs_names_the_role_after_a_change() -> None:
    session = finished_session()
    session.items["local.python"].note = "edited later"
    assert integrity.stale_signoffs(session) == ["engineering"]
    finding = integrity.check(session)[0]
    assert finding.changed == ("item:local.python",)


def test_a_session_without_approvals_is_checked_without_hashing_its_items(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Only an approval compares with the items' hashes: a run's verdict on a session nobody has
    # signed yet does not hash every item (what 5,000 items' results cost at the end of a run).
    session = finished_session(sign=False)
    assert not session.signoffs
    assert not session.decision.status

    def refused(*args: Any, **kwargs: Any) -> dict[str, str]:
        raise AssertionError("the items were hashed")
    monkeypatch.setattr(integrity, "content_parts", refused)
    assert integrity.check(session) == []
    assert integrity.stale_signoffs(session) == []


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("schema = 1\n[session\n")
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml:2" in err
    assert "Traceback" not in err
    assert main(["verify", str(tmp_path / "missing.toml")]) == 2


def _strip_hash(text: str, table: str, empty: bool) -> str:
    """``text`` with the content_sha256 of ``[table]`` emptied or deleted, as a tamperer would."""
    head, sep, rest = text.partition(f"\n[{table}]\n")
    assert sep, table
    line = re.search(r"^content_sha256 = \"[0-9a-f]{64}\"\n", rest, re.M)
    assert line is not None
    return head + sep + rest[:line.start()] + ('content_sha256 = ""\n' if empty else "") \
        + rest[line.end():]


@pytest.mark.parametrize("empty", [True, False], ids=["emptied", "deleted"])
def test_decision_without_its_hash_is_not_intact(saved: Path, empty: bool) -> None:
    saved.write_text(_strip_hash(saved.read_text(), "decision", empty))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(saved)])
    text = out.getvalue()
    assert code == 1, text
    assert "tampered: it records no content hash" in text
    assert text.rstrip().endswith("NOT INTACT: tampered (an approval's record or the approval "
                                  "chain was edited)")


def test_sign_off_without_its_hash_is_not_intact(saved: Path) -> None:
    saved.write_text(_strip_hash(saved.read_text(), "[signoffs]", empty=True))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(saved)])
    assert code == 1, out.getvalue()
    assert "tampered: it records no content hash" in out.getvalue()
