"""Tests the matchers one by one: exit codes, regex numbers, units, JMESPath, ages, Nagios, each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import Observation
from predeploy_tui.engine.expect import judge, parse_timestamp

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_no_expectation_passes_on_exit_code_zero_and_fails_otherwise() -> None:
    assert judge(Observation("Linux 6.1\n", 0), None) == (Status.PASS, "exit code 0: Linux 6.1")
    status, summary = judge(Observation("boom\n", 2), None)
    assert status is Status.FAIL
    assert summary.startswith("exit code 2 (expected 0)")


def test_no_expectation_uses_the_check_types_own_verdict() -> None:
    obs = Observation(status=Status.FAIL, summary="HTTP 503 (expected 200)")
    assert judge(obs, None) == (Status.FAIL, "HTTP 503 (expected 200)")
    assert judge(Observation(summary="ok"), None) == (Status.PASS, "ok")


def test_explicit_exit_codes() -> None:
    assert judge(Observation("", 3), {"exit_code": [0, 3]})[0] is Status.PASS
    assert judge(Observation("", 1), {"exit_code": 0}) == (Status.FAIL, "exit code 1 (expected 0)")


def test_regex_capture_compared_with_units_in_words() -> None:
    obs = Observation("TOTAL   1200   204   83%\n", 0)
    expect = {"regex": r"TOTAL.*\s(\d+)%", "ge": "80%", "label": "coverage", "unit": "%"}
    assert judge(obs, expect) == (Status.PASS, "coverage 83% >= 80%")
    low = Observation("TOTAL   1200   204   75%\n", 0)
    assert judge(low, expect) == (Status.FAIL, "coverage 75% < 80%")


def test_regex_without_match_fails_saying_so() -> None:
    status, summary = judge(Observation("nothing here", 0), {"regex": r"ready: (\d+)", "ge": 3})
    assert status is Status.FAIL
    assert "no match for /ready: (\\d+)/" in summary


def test_regex_value_and_exit_code_both_reported_when_both_fail() -> None:
    obs = Observation("replicas ready: 1 of 3\n", 1)
    status, summary = judge(obs, {"regex": r"ready: (\d+)", "ge": 3, "label": "replicas ready"})
    assert status is Status.FAIL
    assert summary == "replicas ready 1 < 3; exit code 1 (expected 0)"


def test_bytes_threshold_against_a_byte_value_and_warn_threshold() -> None:
    obs = Observation(value=42.1e9, unit="bytes", label="free")
    assert judge(obs, {"ge": "100GB"}) == (Status.FAIL, "free 42.1 GB < 100 GB")
    assert judge(obs, {"ge": "10GB"}) == (Status.PASS, "free 42.1 GB >= 10 GB")
    status, summary = judge(obs, {"ge": "10GB", "warn": {"ge": "50GB"}})
    assert status is Status.WARN
    assert summary == "free 42.1 GB >= 10 GB but < 50 GB (warning)"


def test_days_value_against_a_duration_threshold() -> None:
    obs = Observation(value=12, unit="days", label="certificate expires in")
    status, summary = judge(obs, {"ge": "30d"})
    assert status is Status.FAIL
    assert summary == "certificate expires in 12 days < 30 days"
    assert judge(obs, {"ge": 7, "warn": {"ge": 30}})[0] is Status.WARN


def test_percent_threshold_on_a_byte_value_uses_the_percent_figure() -> None:
    obs = Observation(value=5e9, unit="bytes", label="free", data={"percent": 12.5})
    assert judge(obs, {"ge": "10%"}) == (Status.PASS, "free 12.5% >= 10%")
    assert judge(obs, {"ge": "20%"})[0] is Status.FAIL


def test_every_comparison_operator() -> None:
    obs = Observation(value=5)
    cases = {"ge": (5, 6), "gt": (4, 5), "le": (5, 4), "lt": (6, 5), "eq": (5, 4), "ne": (4, 5)}
    for op, (holds, fails) in cases.items():
        assert judge(obs, {op: holds})[0] is Status.PASS, op
        assert judge(obs, {op: fails})[0] is Status.FAIL, op


def test_jmespath_over_json_output_and_over_data() -> None:
    body = '{"status": "ok", "replicas": {"ready": 3}}'
    assert judge(Observation(body), {"jmespath": "status", "equals": "ok"}) == \
        (Status.PASS, "status = ok")
    assert judge(Observation(body), {"jmespath": "status", "equals": "down"}) == \
        (Status.FAIL, "status = ok (expected down)")
    assert judge(Observation(data={"replicas": {"ready": 3}}),
                 {"jmespath": "replicas.ready", "ge": 3})[0] is Status.PASS


def test_jmespath_null_and_non_json_fail_saying_so() -> None:
    assert judge(Observation('{"a": 1}'), {"jmespath": "b", "equals": 1}) == \
        (Status.FAIL, "b selects nothing")
    status, summary = judge(Observation("not json"), {"jmespath": "a"})
    assert status is Status.FAIL
    assert summary.startswith("the output is not JSON")


def test_contains_and_not_contains() -> None:
    obs = Observation("migrations: up to date\n", 0)
    assert judge(obs, {"contains": "up to date"})[0] is Status.PASS
    assert judge(obs, {"contains": ["up to date", "clean"]}) == \
        (Status.FAIL, "output does not contain 'clean'")
    assert judge(obs, {"not_contains": "up to date"}) == \
        (Status.FAIL, "output contains 'up to date'")


@pytest.mark.parametrize("stamp", [
    (NOW - timedelta(hours=3)).isoformat(),
    (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    format_datetime(NOW - timedelta(hours=3)),
    str(int((NOW - timedelta(hours=3)).timestamp())),
])
def test_max_age_reads_iso_rfc2822_and_epoch(stamp: str) -> None:
    obs = Observation(f"last backup: {stamp}\n", 0)
    expect = {"regex": r"last backup: (.+)", "max_age": 24 * 3600.0, "label": "last backup"}
    assert judge(obs, expect, now=NOW) == (Status.PASS, "last backup is 3.0 h old (max 24.0 h)")
    status, summary = judge(obs, {**expect, "max_age": 3600.0}, now=NOW)
    assert status is Status.FAIL
    assert "3.0 h old (max 1.0 h)" in summary


def test_min_age_and_epoch_milliseconds() -> None:
    stamp = int((NOW - timedelta(days=2)).timestamp() * 1000)
    assert parse_timestamp(stamp) == NOW - timedelta(days=2)
    obs = Observation(data={"rotated": stamp})
    assert judge(obs, {"jmespath": "rotated", "min_age": 86400.0}, now=NOW)[0] is Status.PASS
    assert judge(obs, {"jmespath": "rotated", "min_age": 7 * 86400.0}, now=NOW)[0] is Status.FAIL


@pytest.mark.parametrize(("code", "status"), [(0, Status.PASS), (1, Status.WARN), (2, Status.FAIL),
                                              (3, Status.ERROR)])
def test_nagios_convention_with_first_line_as_summary(code: int, status: Status) -> None:
    obs = Observation("DISK OK - free space: / 3326 MB | /=2643MB;5948;5958\nmore\n", code)
    assert judge(obs, {"nagios": True}) == (status, "DISK OK - free space: / 3326 MB")


def test_each_with_need_all_any_at_least() -> None:
    data = {"nodes": [{"cpu_free_percent": 45}, {"cpu_free_percent": 35}, {"cpu_free_percent": 20}]}
    obs = Observation(data=data)
    expect = {"each": "nodes[*].cpu_free_percent", "gt": 30}
    assert judge(obs, expect) == (Status.FAIL, "2 of 3 nodes have cpu_free_percent > 30 (need all)")
    assert judge(obs, {**expect, "need": "any"}) == \
        (Status.PASS, "2 of 3 nodes have cpu_free_percent > 30")
    assert judge(obs, {**expect, "need": {"at_least": 2}})[0] is Status.PASS
    assert judge(obs, {**expect, "need": {"at_least": 3}})[0] is Status.FAIL
    assert judge(obs, {"each": "nodes[*].cpu_free_percent", "gt": 10}) == \
        (Status.PASS, "3 of 3 nodes have cpu_free_percent > 10")


def test_each_with_warn_threshold() -> None:
    obs = Observation(data={"nodes": [{"free": 45}, {"free": 35}]})
    status, _ = judge(obs, {"each": "nodes[*].free", "gt": 30, "warn": {"gt": 40}})
    assert status is Status.WARN


def test_error_from_the_check_type_is_kept() -> None:
    assert judge(Observation(status=Status.ERROR, summary="connection refused"), {"ge": 1}) == \
        (Status.ERROR, "connection refused")


def test_a_value_just_under_a_threshold_never_reads_as_the_threshold() -> None:
    percent = Observation(value=29.96, label="CPU free", unit="%")
    assert judge(percent, {"ge": 30}) == (Status.FAIL, "CPU free 29.96% < 30%")
    size = Observation(value=99.96e9, label="free", unit="bytes")
    assert judge(size, {"ge": "100GB"}) == (Status.FAIL, "free 100.0 GB (99960000000 bytes) < 100 GB")
    # Far from the threshold the usual rounding stays
    assert judge(percent, {"ge": 10}) == (Status.PASS, "CPU free 30.0% >= 10%")


def test_eq_on_whole_numbers_is_exact() -> None:
    # A relative tolerance of 1e-9 made a count of 1,000,000,001 "equal" 1,000,000,000
    rows = Observation(value=1_000_000_001, label="rows")
    assert judge(rows, {"eq": 1_000_000_000})[0] is Status.FAIL
    assert judge(rows, {"ne": 1_000_000_000})[0] is Status.PASS
    # Fractions still compare through float noise: 0.1 + 0.2 is 0.3
    assert judge(Observation(value=0.1 + 0.2, label="x"), {"eq": 0.3})[0] is Status.PASS
