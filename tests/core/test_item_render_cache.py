"""The item table kept between saves: reused while the item is unchanged, never once it changed.

Every field of ``ItemState`` is changed after a save (by assignment, in place, to an equal value of
another type, through the autosave's snapshot), and the next save must be the text a writer that
keeps nothing renders.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from predeploy_tui.core import session_toml, store, tomlfmt
from predeploy_tui.core.quantity import Seconds
from predeploy_tui.core.results import CheckResult, HistoryEntry, Status, Waiver
from predeploy_tui.core.session import ItemState, Session
from predeploy_tui.core.session_fields import ITEM, Table
from predeploy_tui.core.vocab import ItemKind
from predeploy_tui.engine.recorder import snapshot

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _fresh_table(state: ItemState, kept: object = None) -> str:
    w = tomlfmt.Writer()
    w.table(["items", state.key])
    w.pairs(dict(ITEM.pairs(state)))
    return "\n".join(w.lines)


def reference(session: Session) -> str:
    """The text of a writer that keeps no item or check table (and of a copy that has none kept)."""
    with mock.patch.object(session_toml, "_item_table", _fresh_table, create=True), \
            mock.patch.object(session_toml, "_check_table",
                              lambda state, kept: session_toml._render_check(state.key,
                                                                             state.check)):
        return store.dumps(copy.deepcopy(session))


def _session() -> Session:
    s = Session("c", "C", "c.yaml", "0" * 64, T0, T0)
    for i in range(3):
        key = f"s.item-{i}"
        s.items[key] = ItemState(
            key, f"Title {i}", ItemKind.CHECK, critical=True, section="s", group="G",
            depends_on=("s.other",), fresh_for=Seconds(28800.0, "8h"),
            check={"type": "ssh", "run": "df", "timeout": 30, "expect": {"le": 80}},
            status=Status.PASS, by="Ana", at=T0, note="n", review_note="r",
            description="d", partial_output="tail\n",
            runs=[CheckResult(Status.PASS, "ok", "out\n", 0, T0, T0 + timedelta(seconds=1))],
            history=[HistoryEntry(Status.PASS, "Ana", T0, "why")])
    return s


# One change per field: (name, change). Each changes the first item only, in a way the app
# could: a new value, the same value of another type, or the object held changed in place.
CHANGES: list[tuple[str, Callable[[ItemState], Any]]] = [
    ("key", lambda s: setattr(s, "key", "s.renamed")),
    ("title", lambda s: setattr(s, "title", "Another title")),
    ("kind", lambda s: setattr(s, "kind", ItemKind.MANUAL)),
    ("kind", lambda s: setattr(s, "kind", "check")),  # == ItemKind.CHECK, a str
    ("critical", lambda s: setattr(s, "critical", False)),
    ("critical", lambda s: setattr(s, "critical", 1)),  # == True, written 1
    ("section", lambda s: setattr(s, "section", "t")),
    ("group", lambda s: setattr(s, "group", "H")),
    ("depends_on", lambda s: setattr(s, "depends_on", ())),
    ("depends_on", lambda s: setattr(s, "depends_on", ["s.other"])),  # a list: kept never
    ("fresh_for", lambda s: setattr(s, "fresh_for", None)),
    ("fresh_for", lambda s: setattr(s, "fresh_for", 28800.0)),  # == Seconds(28800, "8h")
    ("fresh_for", lambda s: setattr(s, "fresh_for", Seconds(28800.0, "480m"))),
    ("fresh_for", lambda s: setattr(s.fresh_for, "text", "480m")),  # in place
    ("check", lambda s: s.check.__setitem__("run", "du")),  # in place
    ("check", lambda s: s.check["expect"].__setitem__("le", 80.0)),  # == 80, written 80.0
    ("check", lambda s: setattr(s, "check", None)),
    ("check", lambda s: s.check.__setitem__("timeout", 30.0)),  # == 30, written 30.0
    ("check", lambda s: s.check.__setitem__("timeout", True)),  # == 1, written true
    ("check", lambda s: s.check.__setitem__("args", ["a", "b"])),  # a key added in place
    ("check", lambda s: s.check.pop("expect")),  # a key removed in place
    ("check", lambda s: setattr(s, "check", {**s.check, "run": "du"})),  # replaced
    ("status", lambda s: setattr(s, "status", Status.FAIL)),
    ("status", lambda s: setattr(s, "status", "pass")),  # == Status.PASS, a str
    ("by", lambda s: setattr(s, "by", "Bo")),
    ("at", lambda s: setattr(s, "at", T0 + timedelta(seconds=1))),
    ("at", lambda s: setattr(s, "at", T0.astimezone(UTC) + timedelta(0))),  # equal, another one
    ("at", lambda s: setattr(s, "at", None)),
    ("note", lambda s: setattr(s, "note", "")),
    ("runs", lambda s: s.runs.append(CheckResult(Status.FAIL, "no", "x\n", 1, T0, T0))),
    ("runs", lambda s: s.runs.clear()),
    ("history", lambda s: setattr(s.history[0], "note", "changed")),  # in place
    ("history", lambda s: s.history.append(HistoryEntry(Status.FAIL, "Bo", T0))),
    ("waiver", lambda s: setattr(s, "waiver", Waiver("r", "Cy", "Bo", T0))),
    ("review_note", lambda s: setattr(s, "review_note", "rr")),
    ("removed", lambda s: setattr(s, "removed", True)),
    ("description", lambda s: setattr(s, "description", "new\ninstructions")),
    ("partial_output", lambda s: setattr(s, "partial_output", "more\n")),
    ("partial_output", lambda s: setattr(s, "partial_output", "")),
]


def test_every_field_of_an_item_is_changed_by_some_case() -> None:
    assert {f.name for f in dataclasses.fields(ItemState)} == {name for name, _ in CHANGES}


def test_the_item_table_s_keys_are_bare() -> None:
    # _item_table writes them as they are, not through tomlfmt.key.
    assert all(tomlfmt.key(f.name) == f.name for f in ITEM.fields)


@pytest.mark.parametrize(("name", "change"), CHANGES, ids=[f"{n}-{i}" for i, (n, _) in
                                                           enumerate(CHANGES)])
@pytest.mark.parametrize("via_snapshot", [False, True], ids=["saved", "snapshot-saved"])
def test_a_change_to_any_field_after_a_save_is_in_the_next_save(
        name: str, change: Callable[[ItemState], Any], via_snapshot: bool) -> None:
    session = _session()
    # The first save keeps each item's table: on the session itself, or (the app's autosave) on
    # a snapshot rendered on another thread, which shares what it keeps with the session.
    store.dumps(snapshot(session) if via_snapshot else session)
    state = next(iter(session.items.values()))
    change(state)
    after = store.dumps(session)
    assert after == reference(session)
    assert store.dumps(session) == after  # and what was kept now is right too


def test_an_unchanged_item_table_is_rendered_once() -> None:
    session = _session()
    store.dumps(session)
    with mock.patch.object(Table, "pairs", autospec=True, side_effect=Table.pairs) as pairs:
        store.dumps(session)
        assert [c.args[0] for c in pairs.call_args_list].count(ITEM) == 0
        next(iter(session.items.values())).note = "changed"
        text = store.dumps(session)
        assert [c.args[0] for c in pairs.call_args_list].count(ITEM) == 1
    assert text == reference(session)


def test_a_snapshot_rendered_on_the_autosave_thread_serves_the_session() -> None:
    session = _session()
    store.dumps(snapshot(session))
    with mock.patch.object(Table, "pairs", autospec=True, side_effect=Table.pairs) as pairs:
        text = store.dumps(session)
    assert [c.args[0] for c in pairs.call_args_list].count(ITEM) == 0
    assert text == reference(session)


def test_what_is_kept_is_no_field_of_the_session_or_its_items() -> None:
    session = _session()
    fresh = copy.deepcopy(session)
    store.dumps(session)
    assert session == fresh
    assert repr(session) == repr(fresh)
    assert dataclasses.asdict(session) == dataclasses.asdict(fresh)


def test_an_item_that_stops_being_kept_is_forgotten() -> None:
    session = _session()
    store.dumps(session)
    state = next(iter(session.items.values()))
    state.depends_on = ["s.other"]  # type: ignore[assignment]  # a list: could change in place
    assert store.dumps(session) == reference(session)
    state.depends_on.append("s.third")  # type: ignore[attr-defined]
    assert store.dumps(session) == reference(session)


def test_an_unchanged_check_table_is_rendered_once_also_from_a_snapshot() -> None:
    """The autosave renders a snapshot (a copy of every check): what it holds decides."""
    session = _session()
    store.dumps(snapshot(session))
    with mock.patch.object(session_toml, "_render_check",
                           side_effect=session_toml._render_check) as render:
        store.dumps(session)
        store.dumps(snapshot(session))
        assert render.call_count == 0
        state = next(iter(session.items.values()))
        assert state.check is not None
        state.check["expect"]["le"] = 81
        text = store.dumps(snapshot(session))
        assert render.call_count == 1
    assert text == reference(session)


class _Limit(float):
    """A float subclass whose repr could say less than its text: never kept."""


def test_a_check_holding_a_value_of_another_type_is_rendered_every_time() -> None:
    session = _session()
    state = next(iter(session.items.values()))
    assert state.check is not None
    state.check["timeout"] = _Limit(30.0)
    with mock.patch.object(session_toml, "_render_check",
                           side_effect=session_toml._render_check) as render:
        store.dumps(session)
        store.dumps(session)
    assert [c.args[0] for c in render.call_args_list].count(state.key) == 2
    assert store.dumps(session) == reference(session)
