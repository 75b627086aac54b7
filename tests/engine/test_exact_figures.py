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
