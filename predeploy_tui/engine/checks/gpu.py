"""Provides the ``gpu`` check type: NVIDIA GPUs through NVML here, or nvidia-smi on an SSH host.

Both paths give the same data, so one expectation (``each: gpus[].memory_free_bytes``) judges a
local GPU and a fleet alike. NVML calls block, so they run on the engine's thread pool.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Any

from predeploy_tui.core.quantity import format_bytes
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks._evidence import one_line
from predeploy_tui.engine.checks._nvsmi import NVIDIA_SMI_COMMAND, parse_nvidia_smi

NO_DRIVER = "NVIDIA driver not available (NVML not found)"
"""The reason given where there is no NVIDIA driver at all."""


DATA = """\
value: the number of GPUs (int)
output (regex, contains, not_contains): driver and CUDA line, a table of the GPUs; over SSH the
  nvidia-smi output follows
data (jmespath, each):
  driver    string  driver version (null when not reported)
  cuda      string  CUDA driver version, e.g. 12.4 (NVML only; null over SSH)
  gpus      list of object, one per GPU:
    index                int
    name                 string
    memory_total_bytes   int     bytes
    memory_free_bytes    int     bytes
    memory_used_bytes    int     bytes in use, the driver's reservation not counted (as nvidia-smi)
    utilization_percent  int     % (null when not reported)
    temperature_c        int     degrees Celsius (null when not reported)
    ecc_errors           int     uncorrected volatile ECC errors (null with ECC off)
example:
  expect: {each: 'gpus[].memory_free_bytes', ge: 20GiB}
"""
"""What this type exposes to expectations: ``predeploy explain gpu`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """NVML locally, the nvidia-smi command on a host."""
    if host:
        return f"ssh {host}: {_command(check)}"
    return "NVML: device count, name, memory, utilisation, temperature, ECC errors per GPU"


async def run(ctx: CheckContext) -> Observation:
    """Read every GPU's figures, locally or over SSH."""
    if ctx.host:
        # A missing nvidia-smi is "command not found: ... on HOST" from the transport's one rule.
        result = await ctx.transport().run(_command(ctx.check), timeout=ctx.remaining())
        if result.exit_code != 0:
            first = next((ln for ln in result.output.splitlines() if ln.strip()), "")
            raise CheckError(f"nvidia-smi failed on {ctx.host} (exit {result.exit_code}): "
                             f"{one_line(first)[:200]}")
        try:
            data = {"driver": None, "cuda": None, "gpus": parse_nvidia_smi(result.stdout)}
        except ValueError as exc:
            raise CheckError(f"nvidia-smi output not understood: {exc}") from None
        gpus = data["gpus"]
        if gpus:
            data["driver"] = gpus[0].pop("driver", None)
            for gpu in gpus[1:]:
                gpu.pop("driver", None)
        return gpu_observation(data, raw=result.stdout)
    try:
        async with asyncio.timeout(ctx.remaining()):
            data = await ctx.connections.to_thread(read_nvml)
    except TimeoutError:
        raise CheckError(f"NVML did not answer within {ctx.check.timeout:g}s") from None
    return gpu_observation(data)


def _command(check: ResolvedCheck) -> str:
    """The query, run by the nvidia-smi the check names (a full path where it is off the PATH)."""
    program = str(check.params.get("nvidia_smi") or "nvidia-smi")
    return NVIDIA_SMI_COMMAND.replace("nvidia-smi", shlex.quote(program), 1)


def read_nvml() -> dict[str, Any]:
    """Every GPU's figures through NVML (blocking: call it on a worker thread)."""
    import pynvml as nv

    try:
        nv.nvmlInit()
    except nv.NVMLError_LibraryNotFound:
        raise CheckError(NO_DRIVER) from None
    except nv.NVMLError as exc:
        raise CheckError(f"NVIDIA driver not usable (NVML: {exc})") from None
    try:
        cuda = _optional(nv.nvmlSystemGetCudaDriverVersion_v2)
        data: dict[str, Any] = {
            "driver": _text(nv.nvmlSystemGetDriverVersion()),
            "cuda": f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) else None,
            "gpus": [],
        }
        for index in range(nv.nvmlDeviceGetCount()):
            handle = nv.nvmlDeviceGetHandleByIndex(index)
            memory = _memory(handle)
            util = _optional(nv.nvmlDeviceGetUtilizationRates, handle)
            data["gpus"].append({
                "index": index,
                "name": _text(nv.nvmlDeviceGetName(handle)),
                "memory_total_bytes": int(memory.total),
                "memory_free_bytes": int(memory.free),
                "memory_used_bytes": int(memory.used),
                "utilization_percent": None if util is None else int(util.gpu),
                "temperature_c": _optional(nv.nvmlDeviceGetTemperature, handle,
                                           nv.NVML_TEMPERATURE_GPU),
                "ecc_errors": _optional(nv.nvmlDeviceGetTotalEccErrors, handle,
                                        nv.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nv.NVML_VOLATILE_ECC),
            })
        return data
    except nv.NVMLError as exc:
        raise CheckError(f"NVML: {exc}") from None
    finally:
        try:
            nv.nvmlShutdown()
        except nv.NVMLError:
            pass


def _memory(handle: Any) -> Any:
    """Total, free and used memory as nvidia-smi shows them (the SSH path reads nvidia-smi).

    NVML's v2 call counts the driver's reservation apart; the v1 call, used only where the driver
    lacks v2, counts it as used (an idle H200 then shows 615 MiB used where nvidia-smi shows 0).
    """
    import pynvml as nv

    version = getattr(nv, "nvmlMemory_v2", None)
    if version is not None:
        try:
            return nv.nvmlDeviceGetMemoryInfo(handle, version=version)
        except nv.NVMLError:
            pass
    return nv.nvmlDeviceGetMemoryInfo(handle)


def _optional(fn: Any, *args: Any) -> Any:
    """The figure, or None where this GPU or driver does not report it (ECC off, MIG, ...)."""
    import pynvml as nv

    try:
        return fn(*args)
    except nv.NVMLError:
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def gpu_observation(data: dict[str, Any], raw: str = "") -> Observation:
    """The table, the per-GPU data and the GPU count as the headline value."""
    gpus: list[dict[str, Any]] = data["gpus"]
    header = f"driver {data.get('driver') or '?'}, CUDA {data.get('cuda') or '?'}, {len(gpus)} GPU(s)"
    lines = [header, f"{'#':>2} {'NAME':<28} {'MEM USED':>10} {'MEM FREE':>10} {'MEM TOTAL':>10} "
                     f"{'UTIL':>5} {'TEMP':>5} {'ECC':>4}"]
    for g in gpus:
        lines.append(f"{g['index']:>2} {str(g['name'])[:28]:<28} {_b(g['memory_used_bytes']):>10} "
                     f"{_b(g['memory_free_bytes']):>10} {_b(g['memory_total_bytes']):>10} "
                     f"{_n(g['utilization_percent'], '%'):>5} {_n(g['temperature_c'], 'C'):>5} "
                     f"{_n(g['ecc_errors']):>4}")
    if raw:
        lines += ["", "nvidia-smi:", raw.rstrip()]
    names = sorted({str(g["name"]) for g in gpus})
    summary = f"{len(gpus)} GPU{'' if len(gpus) == 1 else 's'}"
    if names:
        summary += f" ({', '.join(names)})"
    free = [g["memory_free_bytes"] for g in gpus if g["memory_free_bytes"] is not None]
    if free:
        summary += f", least memory free {format_bytes(min(free))}"
    return Observation(output="\n".join(lines), data=data, value=len(gpus), label="GPUs",
                       summary=summary)


def _b(value: int | None) -> str:
    return "-" if value is None else format_bytes(value)


def _n(value: Any, unit: str = "") -> str:
    return "-" if value is None else f"{value}{unit}"
