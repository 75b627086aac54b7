"""Compare two sessions: status changes, new failures and waivers, thresholds, baselines that moved."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.compare import compare
from predeploy_tui.core.results import CheckResult, Status

from .demo import at, baseline, finished_session

SLOW = "SELECT * FROM tracks WHERE artist_id = $1"
STEADY = "SELECT 1"


def sessions() -> tuple[object, object]:
    old = finished_session(data=baseline({SLOW: 10.0, STEADY: 0.5, "gone": 1.0}), sign=False)
    new = finished_session(data=baseline({SLOW: 15.0, STEADY: 0.55, "fresh": 9.0}), sign=False)
    old.items["network.broken"].status = Status.FAIL  # not waived last time
    new.record_result("local.memory", CheckResult(Status.FAIL, "120MB free", "", 0, at(70),
                                                  at(71)), at(71))
    check = new.items["local.disk"].check
    assert check is not None
    new.items["local.disk"].check = {**check, "expect": {"ge": "2GB"}}
    return old, new


def test_baseline_query_slowed_by_half_is_reported() -> None:
    old, new = sessions()
    result = compare(old, new, slower_pct=20)
    assert [(m.row, m.old, m.new) for m in result.slower] == [(SLOW, 10.0, 15.0)]
    move = result.slower[0]
    assert move.delta == 5.0
    assert round(move.pct) == 50
    assert move.metric == "mean_exec_time"
    assert not result.faster
    assert any(SLOW in line and "+50.0%" in line and "10 -> 15" in line for line in result.lines())
    assert not compare(old, new, slower_pct=60).slower


def test_status_changes_new_failures_waivers_and_thresholds() -> None:
    old, new = sessions()
    result = compare(old, new)
    changes = {c.key: (c.old, c.new) for c in result.status_changes}
    assert changes == {"network.broken": ("fail", "waived"), "local.memory": ("pass", "fail")}
    assert result.new_failures == ("local.memory",)
    assert result.new_waivers == ("network.broken",)
    assert [t.key for t in result.threshold_changes] == ["local.disk"]
    text = "\n".join(result.lines())
    assert "replica set scales after deploy" in text
    assert "{ge: 1GB, warn: {'ge': '5GB'}} -> {ge: 2GB}" in text


def test_identical_sessions_have_no_differences() -> None:
    old, _ = sessions()
    result = compare(old, old)
    assert not result
    assert result.lines()[-1].startswith("No differences")


def test_diff_command(tmp_path: Path) -> None:
    old, new = sessions()
    store.save(old, tmp_path / "old.toml")
    store.save(new, tmp_path / "new.toml")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["diff", str(tmp_path / "old.toml"), str(tmp_path / "new.toml"),
                     "--slower-pct", "25"])
    assert code == 0
    text = out.getvalue()
    assert "Baselines slower by more than 25%" in text
    assert SLOW in text
    assert "New failures (1):" in text
    assert main(["diff", str(tmp_path / "old.toml"), str(tmp_path / "x.toml")]) == 2


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-5"])
def test_diff_refuses_a_slower_pct_that_is_not_a_finite_positive_number(
        saved: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(saved), str(saved), f"--slower-pct={value}"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert "--slower-pct must be a finite number, 0 or more" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
