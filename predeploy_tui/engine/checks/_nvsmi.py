"""Provides the nvidia-smi query the gpu check runs on SSH hosts, and its CSV parser."""

from __future__ import annotations

import csv
import io
from typing import Any

FIELDS = ("index", "name", "driver_version", "memory.total", "memory.used", "memory.free",
          "utilization.gpu", "temperature.gpu", "ecc.errors.uncorrected.volatile.total")
"""The query fields, in the order nvidia-smi prints them."""
NVIDIA_SMI_COMMAND = (f"nvidia-smi --query-gpu={','.join(FIELDS)} "
                      "--format=csv,noheader,nounits")
"""The command run on a host; ``nounits`` makes memory plain MiB."""
MIB = 1024 * 1024
"""nvidia-smi reports memory in MiB."""


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """Rows of the query as per-GPU dicts shaped like the NVML path's (``[N/A]`` -> None)."""
    gpus: list[dict[str, Any]] = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text), skipinitialspace=True), 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(FIELDS):
            raise ValueError(f"line {lineno} has {len(row)} fields, expected {len(FIELDS)}")
        raw = dict(zip(FIELDS, (cell.strip() for cell in row), strict=True))
        total, used, free = (_number(raw[f], lineno) for f in
                             ("memory.total", "memory.used", "memory.free"))
        index = _number(raw["index"], lineno)
        gpus.append({
            "index": int(index) if index is not None else len(gpus),
            "name": raw["name"],
            "driver": None if _missing(raw["driver_version"]) else raw["driver_version"],
            "memory_total_bytes": None if total is None else int(total * MIB),
            "memory_free_bytes": None if free is None else int(free * MIB),
            "memory_used_bytes": None if used is None else int(used * MIB),
            "utilization_percent": _int(_number(raw["utilization.gpu"], lineno)),
            "temperature_c": _int(_number(raw["temperature.gpu"], lineno)),
            "ecc_errors": _int(_number(raw["ecc.errors.uncorrected.volatile.total"], lineno)),
        })
    return gpus


def _missing(cell: str) -> bool:
    """nvidia-smi writes [N/A], [Not Supported], N/A or [Unknown Error] where it has no figure."""
    return not cell or cell.startswith("[") or cell.upper() == "N/A"


def _number(cell: str, lineno: int) -> float | None:
    if _missing(cell):
        return None
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"line {lineno}: {cell!r} is not a number") from None


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
