"""Provides the ``memory`` check type: available memory, here or over SSH, from /proc/meminfo."""

from __future__ import annotations

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.expect import show

DATA = """\
value: available memory (int, bytes: MemAvailable); a threshold in % compares data.percent
output (regex, contains, not_contains): /proc/meminfo as read
data (jmespath, each):
  total       int     bytes (MemTotal)
  available   int     bytes (MemAvailable; MemFree + Buffers + Cached before Linux 3.14)
  percent     float   100 x available / total, unrounded
example:
  expect: {ge: 2GiB}
"""
"""What this type exposes to expectations: ``predeploy explain memory`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The command and where it runs."""
    return "cat /proc/meminfo" + (f" on {host}" if host else "")


def parse_meminfo(text: str) -> dict[str, float]:
    """Total, available and percent available, in bytes, from /proc/meminfo."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            fields[name.strip()] = int(words[0]) * (1024 if len(words) > 1 and words[1] == "kB" else 1)
    if "MemTotal" not in fields:
        raise CheckError("cannot read /proc/meminfo: no MemTotal line")
    available = fields.get("MemAvailable")
    if available is None:  # kernels before 3.14
        available = sum(fields.get(k, 0) for k in ("MemFree", "Buffers", "Cached"))
    total = fields["MemTotal"]
    return {"total": total, "available": available,
            # Exact: a percent threshold compares this figure; rounding is for the summary.
            "percent": 100 * available / total if total else 0.0}


async def run(ctx: CheckContext) -> Observation:
    """Measure the available memory."""
    result = await ctx.transport().run("cat /proc/meminfo", timeout=ctx.remaining())
    if result.exit_code != 0:
        raise CheckError("no /proc/meminfo here: the memory check needs Linux")
    data = parse_meminfo(result.stdout)
    available = data["available"]
    summary = f"available {show(available, 'bytes')} of {show(data['total'], 'bytes')} " \
              f"({show(data['percent'], '%')})"
    ctx.output(summary + "\n")
    return Observation(output=result.stdout, exit_code=0, data=data, value=available,
                       unit="bytes", label="available memory", summary=summary)
