"""Provides an example site check type: counts the words a command prints (see checks/README.md)."""

from __future__ import annotations

from predeploy_tui.engine.base import CheckContext, CheckError, Observation

DESCRIPTION = "count words of: {run}"
"""One line for `predeploy plan` and the app, read without importing this file."""


async def run(ctx: CheckContext) -> Observation:
    """Run the command and report how many words it printed."""
    command = ctx.check.params.get("run")
    if not command:
        raise CheckError("the words check needs `run`: the command whose output is counted")
    result = await ctx.transport().run(str(command), timeout=ctx.remaining(), on_output=ctx.output,
                                       cwd=str(ctx.folder) if ctx.host is None else None)
    if result.exit_code != 0:
        raise CheckError(f"`{command}` exited with {result.exit_code}")
    words = len(result.stdout.split())
    return Observation(output=result.output, exit_code=result.exit_code, value=words,
                       label="words", summary=f"{words} words")
