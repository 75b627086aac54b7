"""Provides the ``shell`` check type: a command on this machine, as text through /bin/sh or argv."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck

DATA = """\
value: none (compare a number with regex or jmespath)
output (regex, contains, not_contains): stdout, then stderr, as text
  held up to 4,000,000 characters: past that, the first and last 2,000,000 are kept with a
  "[N characters cut]" line between, and an expectation that reads the output is an error
exit_code: the command's exit status (expect: {exit_code: [0, 1]}; default 0 passes); a
  command killed by a signal has none, and the item is an error
data (jmespath, each): none; jmespath parses the output as JSON
example:
  expect: {regex: 'TOTAL.*\\s(\\d+)%', ge: 80, label: coverage}
"""
"""What this type exposes to expectations: ``predeploy explain shell`` prints it."""


def _command(params: Mapping[str, object]) -> str | list[str]:
    run = params.get("run")
    if isinstance(run, list | tuple):
        return [str(a) for a in run]
    if not isinstance(run, str) or not run.strip():
        raise CheckError("the shell check has no command to run")
    if params.get("shell", True) is False:
        try:
            return shlex.split(run)
        except ValueError as exc:
            raise CheckError(f"cannot split the command into arguments: {exc}") from None
    if params.get("strict"):
        return [*STRICT_SHELL, run]
    return run


STRICT_SHELL = ["bash", "-euo", "pipefail", "-c"]
"""How ``strict: true`` runs a command: a failing command or pipeline part ends the script."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The command as it will run (secrets masked), and the folder when one is set."""
    run = check.shown.get("run", "")
    text = shlex.join(str(a) for a in run) if isinstance(run, list | tuple) else str(run)
    if check.shown.get("strict") and isinstance(run, str):
        text = shlex.join([*STRICT_SHELL, text])
    cwd = check.shown.get("cwd")
    return text + (f"  (in {cwd})" if cwd else "")


async def run(ctx: CheckContext) -> Observation:
    """Run the command locally and report its output and exit code."""
    params = ctx.check.params
    command = _command(params)
    cwd = params.get("cwd")
    folder = str(ctx.folder / Path(str(cwd))) if cwd else str(ctx.folder)
    env = params.get("env")
    given = {str(k): str(v) for k, v in env.items()} if isinstance(env, Mapping) else {}
    # Secrets the command names as $PREDEPLOY_SECRET_n travel in its environment, not its argv.
    result = await ctx.transport().run(
        command, timeout=ctx.remaining(), on_output=ctx.output,
        env={**given, **ctx.check.env} or None, cwd=folder)
    return Observation(output=result.output, exit_code=result.exit_code)
