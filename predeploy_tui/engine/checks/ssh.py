"""Provides the ``ssh`` check type: a command on an SSH host (or each host of a group)."""

from __future__ import annotations

import shlex

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks.shell import STRICT_SHELL

DATA = """\
value: none (compare a number with regex or jmespath)
output (regex, contains, not_contains): stdout, then stderr, of the command on the host, as
  text, held up to 4,000,000 characters: past that, the first and last 2,000,000 are kept with a
  "[N characters cut]" line between, and an expectation that reads the output is an error
exit_code: the command's exit status on the host (default 0 passes); a command killed by a
  signal or a channel that closed has none, and the item is an error
data (jmespath, each): none; jmespath parses the output as JSON
example:
  expect: {contains: active, exit_code: 0}
"""
"""What this type exposes to expectations: ``predeploy explain ssh`` prints it."""


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
    if ctx.check.params.get("strict"):
        command = shlex.join([*STRICT_SHELL, str(command)])
    # Secrets the command names as $PREDEPLOY_SECRET_n go over the channel's stdin, not its argv.
    result = await ctx.transport().run(str(command), timeout=ctx.remaining(),
                                       on_output=ctx.output, env=dict(ctx.check.env) or None)
    return Observation(output=result.output, exit_code=result.exit_code,
                       summary=f"exit {result.exit_code} on {ctx.host}")
