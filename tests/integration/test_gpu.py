"""The gpu check type: NVML absent here, and nvidia-smi over the real loopback sshd on recorded output."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from servers import sshd as sshd_server
from servers.run_check import run_check, undocumented

from predeploy_tui.core.results import Status
from predeploy_tui.engine.checks._nvsmi import parse_nvidia_smi
from predeploy_tui.engine.checks.gpu import NO_DRIVER
from predeploy_tui.engine.connections import RunConnections

pytestmark = pytest.mark.integration

# Recorded from `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` on a 2 x H100 node:
# GPU 1 is busy training; memory.used + memory.free < total (the driver reserves some).
H100_PAIR = """\
0, NVIDIA H100 80GB HBM3, 550.54.15, 81559, 1, 80575, 0, 31, 0
1, NVIDIA H100 80GB HBM3, 550.54.15, 81559, 61443, 19133, 97, 64, 0
"""
MIB = 1024 * 1024
NO_DRIVER_OUTPUT = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                    "Make sure that the latest NVIDIA driver is installed and running.\n")


def _nvml_loads() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        return True
    except Exception:
        return False


@pytest.mark.skipif(_nvml_loads(), reason="this machine has an NVIDIA driver")
async def test_no_driver_gives_the_clear_error() -> None:
    out = await run_check("gpu", {}, expect={"ge": 1}, timeout=5)
    assert out.status is Status.ERROR
    assert out.summary == "NVIDIA driver not available (NVML not found)" == NO_DRIVER


def fake_nvidia_smi(folder: Path, stdout: str, exit_code: int = 0) -> Path:
    """An executable that answers the query like nvidia-smi would."""
    (folder / "recorded.csv").write_text(stdout)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncase \"$1\" in --query-gpu=*) ;; *) exit 2;; esac\n"
                      f"cat '{folder}/recorded.csv'\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


@pytest.fixture
async def conns(sshd: sshd_server.SSHServer,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunConnections]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    run = RunConnections(ssh_config=sshd.ssh_config, known_hosts=sshd.known_hosts)
    yield run
    await run.aclose()


async def test_nvidia_smi_over_ssh(conns: RunConnections, tmp_path: Path) -> None:
    script = fake_nvidia_smi(tmp_path, H100_PAIR)
    out = await run_check("gpu", {"nvidia_smi": str(script)}, host="web1", connections=conns,
                          expect={"each": "gpus[].memory_free_bytes", "ge": "40GiB"})
    assert out.obs is not None
    data = out.obs.data
    assert undocumented("gpu", data) == []
    assert data["driver"] == "550.54.15"
    assert data["cuda"] is None
    assert data["gpus"][0] == {
        "index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_total_bytes": 81559 * MIB,
        "memory_free_bytes": 80575 * MIB, "memory_used_bytes": 1 * MIB,
        "utilization_percent": 0, "temperature_c": 31, "ecc_errors": 0}
    assert data["gpus"][1]["utilization_percent"] == 97
    # GPU 1 has only ~18.7 GiB free: the per-GPU judgement fails on it.
    assert out.status is Status.FAIL
    assert out.summary.startswith("1 of 2 gpus have memory_free_bytes")
    assert out.obs.value == 2
    assert out.obs.label == "GPUs"
    assert "NVIDIA H100 80GB HBM3" in out.obs.summary
    assert "550.54.15" in out.obs.output
    healthy = await run_check("gpu", {"nvidia_smi": str(script)}, host="web2", connections=conns,
                              expect={"each": "gpus[].ecc_errors", "eq": 0})
    assert healthy.status is Status.PASS, healthy.summary


async def test_nvidia_smi_missing_or_failing_on_the_host(conns: RunConnections, tmp_path: Path) -> None:
    missing = await run_check("gpu", {"nvidia_smi": str(tmp_path / "absent" / "nvidia-smi")},
                              host="web1", connections=conns, timeout=10)
    assert missing.status is Status.ERROR
    assert missing.summary.startswith("command not found: ")
    assert missing.summary.endswith("/absent/nvidia-smi on web1")
    broken = fake_nvidia_smi(tmp_path, NO_DRIVER_OUTPUT, exit_code=9)
    failed = await run_check("gpu", {"nvidia_smi": str(broken)}, host="web1", connections=conns)
    assert failed.status is Status.ERROR
    assert failed.summary.startswith("nvidia-smi failed on web1 (exit 9): NVIDIA-SMI has failed "
                                     "because it couldn't communicate with the NVIDIA driver")


def test_parser_handles_missing_figures() -> None:
    text = ("0, Tesla T4, 535.104.05, 15360, 3, 14923, [N/A], 45, [N/A]\n"
            "1, NVIDIA A100-SXM4-40GB, 535.104.05, [Not Supported], [N/A], [N/A], 12, [N/A], 2\n"
            "\n")
    first, second = parse_nvidia_smi(text)
    assert first["utilization_percent"] is None
    assert first["ecc_errors"] is None
    assert first["memory_free_bytes"] == 14923 * MIB
    assert first["temperature_c"] == 45
    assert second["memory_total_bytes"] is None
    assert second["memory_used_bytes"] is None
    assert second["temperature_c"] is None
    assert second["ecc_errors"] == 2
    assert second["name"] == "NVIDIA A100-SXM4-40GB"
    assert second["driver"] == "535.104.05"
    with pytest.raises(ValueError, match="line 1 has 3 fields"):
        parse_nvidia_smi("0, T4, 535\n")
    with pytest.raises(ValueError, match="'lots' is not a number"):
        parse_nvidia_smi("0, T4, 535, lots, 1, 1, 1, 1, 1\n")
