"""Provides the ``disk`` check type: free space of a path's file system, here or over SSH.

It runs ``df -Pk PATH`` through the context's transport (this machine, an SSH host, or each host
of a group) and parses the POSIX output; the value is the free bytes.
"""

from __future__ import annotations

import shlex

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.expect import show

DATA = """\
value: free bytes of the path's file system (int, bytes); a threshold in % (ge: 10%) compares
  data.percent instead
output (regex, contains, not_contains): `df -Pk PATH` as it printed
data (jmespath, each):
  path           string  the path asked about
  mount          string  its mount point
  filesystem     string  the device or file system name
  total          int     bytes (df's 1024-blocks x 1024)
  used           int     bytes
  free           int     bytes available to unprivileged users
  used_percent   float   100 x used / (used + free), unrounded
  percent        float   100 x free / (used + free), unrounded
example:
  expect: {ge: 20GB, warn: {ge: 50GB}}
"""
"""What this type exposes to expectations: ``predeploy explain disk`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The df command and where it runs."""
    return f"df -Pk {shlex.quote(str(check.shown.get('path') or '/'))}" + (f" on {host}" if host else "")


def parse_df(output: str, path: str) -> dict[str, object]:
    """Totals from ``df -Pk`` output: bytes total / used / free, percents, mount point."""
    lines = [line for line in output.splitlines() if line.strip()]
    if len(lines) < 2:
        raise CheckError(f"df gave no figures for {path}")
    fields = lines[-1].split()
    if len(fields) < 6:
        raise CheckError(f"cannot read df output: {lines[-1]!r}")
    try:
        total, used, free = (int(fields[-5]) * 1024, int(fields[-4]) * 1024, int(fields[-3]) * 1024)
    except ValueError:
        raise CheckError(f"cannot read df output: {lines[-1]!r}") from None
    size = used + free or 1
    return {"path": path, "mount": fields[-1], "filesystem": " ".join(fields[:-5]),
            "total": total, "used": used, "free": free,
            # Exact: a percent threshold (ge: 10%) compares this figure; rounding is for the summary.
            "used_percent": 100 * used / size, "percent": 100 * free / size}


async def run(ctx: CheckContext) -> Observation:
    """Measure the free space of ``path`` (default /)."""
    path = str(ctx.check.params.get("path") or "/")
    result = await ctx.transport().run(f"df -Pk {shlex.quote(path)}", timeout=ctx.remaining(),
                                       on_output=ctx.output)
    if result.exit_code != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise CheckError(f"df {path} failed: {reason[-1] if reason else f'exit code {result.exit_code}'}")
    data = parse_df(result.stdout, path)
    free, total = float(str(data["free"])), float(str(data["total"]))
    return Observation(
        output=result.output, exit_code=result.exit_code, data=data, value=free, unit="bytes",
        label="free",
        summary=f"free {show(free, 'bytes')} of {show(total, 'bytes')} "
                f"({show(float(str(data['percent'])), '%')}) on {data['mount']}")
