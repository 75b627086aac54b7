"""The writer's fast path for runs and the rendering it keeps on each run: the same bytes as the
field table rendered field by field, on generated sessions and after any change to them."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predeploy_tui.core import session_toml, store, tomlfmt
from predeploy_tui.core.provenance import CodeFile
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Session
from predeploy_tui.core.session_fields import RUN
from predeploy_tui.core.vocab import Role

from .test_store import check_results, json_data, moment, sessions, short, text


def _reference(r: CheckResult) -> str:
    """A run's lines as the writer wrote them before its fast path: the field table, in order."""
    return "\n".join(k + " = " + tomlfmt.value(v) for k, v in RUN.pairs(r))


@contextmanager
def _field_by_field() -> Iterator[None]:
    """The writer with every run rendered by :func:`_reference`: nothing fast, nothing kept."""
    with mock.patch.object(session_toml, "_rendered", _reference):
        yield


def reference_dumps(session: Session) -> str:
    """The session as the field-by-field writer renders it (a deep copy: no kept rendering)."""
    with _field_by_field():
        return store.dumps(copy.deepcopy(session))


code_files = st.lists(st.builds(CodeFile, st.sampled_from(["site/x.py", "a b/é.sh"]),
                                st.sampled_from(["a" * 64, "0" * 64])), max_size=2).map(tuple)


@st.composite
def odd_runs(draw: st.DrawFn) -> CheckResult:
    """Runs with what the store's strategy leaves out: code, enum roles, odd but legal values."""
    run = draw(check_results())
    return dataclasses.replace(
        run, code=draw(code_files), role=draw(st.sampled_from([Role.DEPLOYER, Role.REVIEWER,
                                                               "deployer"])),
        status=draw(st.sampled_from([*Status, "pass"])),
        exit_code=draw(st.none() | st.integers(-2**63, 2**63 - 1) | st.just(True)),
        summary=draw(text), output_truncated=draw(st.booleans()))


def test_the_fast_path_writes_every_field_of_the_table_in_order() -> None:
    assert tuple(f.name for f in RUN.fields) == session_toml.RUN_WRITTEN


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_runs())
def test_a_run_is_written_as_the_field_table_writes_it(run: CheckResult) -> None:
    assert "\n".join(session_toml._run_lines(run)) == _reference(run)
    assert session_toml._rendered(run) == _reference(run)
    assert session_toml._rendered(run) == _reference(run)  # from what the first call kept


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_a_session_is_written_byte_for_byte_as_before(session: Session) -> None:
    assert store.dumps(session) == reference_dumps(session)


# -- changes after a save: whatever changes, the next save shows it ------------------------------

@st.composite
def changes(draw: st.DrawFn) -> list[tuple[str, object]]:
    """A sequence of changes of the kinds the app and the engine make to items and their runs."""
    kinds = st.sampled_from(["append", "replace", "with_by", "drop", "data", "output", "status",
                             "note", "check", "history", "hosts", "reorder"])
    return [(draw(kinds), draw(st.integers(0, 10**6))) for _ in range(draw(st.integers(1, 8)))]


def _change(session: Session, kind: str, seed: int, draw: st.DrawFn) -> None:
    """Apply one change to one item (chosen by ``seed``) in place, as the app would."""
    if not session.items:
        return
    states = list(session.items.values())
    state = states[seed % len(states)]
    runs = state.runs
    at = seed % len(runs) if runs else 0
    if kind == "append":
        runs.append(draw(odd_runs()))
    elif kind == "replace" and runs:
        runs[at] = dataclasses.replace(runs[at], summary=draw(text), output=draw(text))
    elif kind == "with_by" and runs:
        runs[at] = runs[at].with_by(draw(short), Role.REVIEWER)
    elif kind == "drop" and runs:
        del runs[at]
    elif kind == "data" and runs and isinstance(runs[at].data, dict | list):
        data = runs[at].data
        if isinstance(data, dict):
            data[draw(short)] = draw(json_data)  # changed in place: the run is the same object
        else:
            data.append(draw(json_data))
    elif kind == "output" and runs:
        runs[at] = dataclasses.replace(runs[at], output=draw(text), output_truncated=True)
    elif kind == "status":
        state.status, state.at, state.by = Status.FAIL, draw(moment), draw(short)
    elif kind == "note":
        state.note, state.review_note = draw(text), draw(text)
    elif kind == "check" and state.check is not None:
        state.check["run"] = draw(text)
    elif kind == "history" and state.history:
        state.history[0].note = draw(text)
    elif kind == "hosts" and runs:
        host = dataclasses.replace(draw(check_results(depth=1)),
                                   finished=draw(moment) + timedelta(seconds=1))
        runs[at] = dataclasses.replace(runs[at], hosts=(*runs[at].hosts, host))
    elif kind == "reorder" and len(runs) > 1:
        runs.reverse()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions(), changes(), st.data())
def test_every_change_after_a_save_is_in_the_next_save(
        session: Session, steps: list[tuple[str, object]], data: st.DataObject) -> None:
    store.dumps(session)  # every run keeps its rendering
    for kind, seed in steps:
        _change(session, kind, int(seed), data.draw)  # type: ignore[call-overload]
        assert store.dumps(session) == reference_dumps(session), kind


def test_an_unchanged_run_is_rendered_once_and_a_run_with_data_each_time() -> None:
    plain = CheckResult(Status.PASS, "ok", "line\n" * 100, 0)
    with_data = CheckResult(Status.PASS, "ok", "line\n", 0, data={"rows": [1, 2]})
    with mock.patch.object(session_toml, "_run_lines", wraps=session_toml._run_lines) as lines:
        for _ in range(3):
            assert session_toml._rendered(plain) == _reference(plain)
            assert session_toml._rendered(with_data) == _reference(with_data)
    assert [c.args[0] for c in lines.call_args_list].count(plain) == 1
    assert [c.args[0] is with_data for c in lines.call_args_list].count(True) == 3
    assert plain == CheckResult(Status.PASS, "ok", "line\n" * 100, 0)  # what is kept is no field


def test_runs_read_without_their_constructor_are_the_constructor_s() -> None:
    # The fast reader fills a run's __dict__: only right while the run table sets every field
    # and CheckResult has nothing its __init__ would do besides.
    assert store._SETS_EVERY_FIELD
    assert not hasattr(CheckResult, "__post_init__")
    run = CheckResult(Status.FAIL, "disk 91%", "out\n", 1, host="db-1", by="Ana",
                      role=Role.REVIEWER, code=(CodeFile("x.py", "a" * 64),))
    built = store._result({f.name: getattr(run, f.name) for f in dataclasses.fields(run)})
    assert built == run
    assert hash(built) == hash(run)
    assert repr(built) == repr(run)
    assert vars(built) == vars(run)
