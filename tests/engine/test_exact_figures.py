"""Measured figures reach expectations unrounded: disk and memory percents judged by a % threshold."""

from __future__ import annotations

from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import Observation
from predeploy_tui.engine.checks.disk import parse_df
from predeploy_tui.engine.checks.memory import parse_meminfo
from predeploy_tui.engine.expect import judge

# 996 of 10000 KiB free: 9.96%, a hair under 10%.
DF = """Filesystem     1024-blocks  Used Available Capacity Mounted on
/dev/vda1            10000  9004       996      91% /
"""
MEMINFO = "MemTotal:       10000 kB\nMemFree:          500 kB\nMemAvailable:     996 kB\n"


def test_disk_percent_free_is_compared_exactly() -> None:
    data = parse_df(DF, "/")
    obs = Observation(value=float(str(data["free"])), unit="bytes", label="free", data=data)
    status, summary = judge(obs, {"ge": "10%"})
    assert status is Status.FAIL, summary
    assert data["percent"] == 9.96
    assert summary == "free 9.96% < 10%"


def test_memory_percent_available_is_compared_exactly() -> None:
    data = parse_meminfo(MEMINFO)
    obs = Observation(value=data["available"], unit="bytes", label="available memory", data=data)
    status, summary = judge(obs, {"ge": "10%"})
    assert status is Status.FAIL, summary
    assert data["percent"] == 9.96


# Past 2**53 a float cannot tell neighbouring whole numbers apart: 2**53 + 1 reads as 2**53.
BIG = 2**53


def test_whole_numbers_past_two_to_the_53_are_compared_exactly() -> None:
    # An exact integer the check saw (a Postgres bigint, an LSN, a byte counter).
    for raw in (BIG, str(BIG), f"{BIG:,}"):
        obs = Observation(value=raw, label="lsn")
        assert judge(obs, {"ge": BIG + 1})[0] is Status.FAIL, raw
        assert judge(obs, {"eq": BIG + 1})[0] is Status.FAIL, raw
        assert judge(obs, {"ne": BIG + 1})[0] is Status.PASS, raw
        assert judge(obs, {"lt": BIG + 1})[0] is Status.PASS, raw
        assert judge(obs, {"ge": str(BIG + 1)})[0] is Status.FAIL, raw
    summary = judge(Observation(value=BIG, label="lsn"), {"ge": BIG + 1})[1]
    assert summary == f"lsn {BIG} < {BIG + 1}"
    # A threshold with a unit is exact too: 8 PiB + 1 byte is more than 8 PiB.
    obs = Observation(value=8 * 1024**5 + 1, unit="bytes", label="free")
    assert judge(obs, {"le": "8192TiB"})[0] is Status.FAIL
    assert judge(obs, {"gt": "8192TiB"})[0] is Status.PASS


def test_each_element_past_two_to_the_53_is_compared_exactly() -> None:
    obs = Observation(data={"nodes": [{"v": BIG}, {"v": BIG + 2}]})
    status, summary = judge(obs, {"each": "nodes[].v", "ge": BIG + 1})
    assert status is Status.FAIL, summary
    assert summary.startswith("1 of 2 nodes"), summary


def test_equals_past_two_to_the_53_is_exact() -> None:
    assert judge(Observation(value=BIG), {"equals": BIG + 1})[0] is Status.FAIL
    assert judge(Observation(value=str(BIG)), {"equals": BIG + 1})[0] is Status.FAIL
    assert judge(Observation(value=BIG + 1), {"equals": str(BIG + 1)})[0] is Status.PASS


def test_decimal_fractions_still_compare_as_written() -> None:
    # A float the check computed, against the same number written in the checklist.
    assert judge(Observation(value=0.1, label="x"), {"le": 0.1})[0] is Status.PASS
    assert judge(Observation(value=0.1, label="x"), {"ge": "0.1"})[0] is Status.PASS
    assert judge(Observation(value=0.1 + 0.2, label="x"), {"eq": 0.3})[0] is Status.PASS
    assert judge(Observation(value="0.3", label="x"), {"le": 0.3})[0] is Status.PASS
    assert judge(Observation(value="2.5h", label="x"), {"eq": 9000, "unit": "s"})[0] is Status.PASS


def test_text_that_is_not_one_finite_number_is_not_compared() -> None:
    # float() read "inf" and "nan"; "inf" passed every ge, a ratio never was a number.
    for raw in ("inf", "nan", "-Infinity", "4/4", 10**400):
        status, summary = judge(Observation(value=raw, label="ready"), {"ge": 1})
        assert status is Status.FAIL, (raw, summary)
        assert "not a" in summary, summary
