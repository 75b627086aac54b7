"""Provides the ``ssh`` check type: a command on an SSH host (or each host of a group)."""

from __future__ import annotations

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck


def describe(check: ResolvedCheck, host: str | None) -> str:
    """``ssh web1: systemctl is-active nginx`` (secrets masked)."""
    return f"ssh {host or check.shown.get('host') or '?'}: {check.shown.get('run', '')}"


async def run(ctx: CheckContext) -> Observation:
    """Run the command over the host's shared connection; the exit code and output are the evidence."""
    if ctx.host is None:
        raise CheckError("an ssh check needs a host: add host: NAME to the check")
    command = ctx.check.params.get("run")
    if not command:
        raise CheckError("an ssh check needs run: COMMAND")
    # Secrets the command names as $PREDEPLOY_SECRET_n go over the channel's stdin, not its argv.
    result = await ctx.transport().run(str(command), timeout=ctx.remaining(), on_output=ctx.output,
                                       env=dict(ctx.check.env) or None)
    code = "killed by a signal" if result.exit_code is None else f"exit {result.exit_code}"
    return Observation(output=result.output, exit_code=result.exit_code,
                       summary=f"{code} on {ctx.host}")
