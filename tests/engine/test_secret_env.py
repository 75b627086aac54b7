"""Tests that secrets reach a local command through its environment, never its argv (``ps``)."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path
from types import MappingProxyType

import pytest

from predeploy_tui.core.checklist import CheckSpec
from predeploy_tui.engine.base import CheckContext, Observation
from predeploy_tui.engine.checks import builtin
from predeploy_tui.engine.connections import RunConnections
from predeploy_tui.engine.template import Template, TemplateError

SECRET = "s3cr3t value with 'quotes' and \"more\" $HOME `id`"

# The shell's own command line, as `ps` shows it to every user, then what it received.
SHOW_ARGV_AND_HASH = ("tr '\\0' ' ' < /proc/$$/cmdline; echo; ps -o args= -p $$; "
                      "printf %s ${env:DEPLOY_TOKEN} | sha256sum; "
                      "printf %s \"[${db_password}]\" | sha256sum; "
                      "printf %s '[${db_password}]' | sha256sum")



async def run_shell(run: str) -> Observation:
    template = Template({"db_password": SECRET}, environ={"DEPLOY_TOKEN": SECRET},
                        secret_names={"db_password"})
    check = template.check(CheckSpec("shell", MappingProxyType({"run": run}), None, 10.0))
    conns = RunConnections()
    try:
        ctx = CheckContext(item_key="s.i", check=check, host=None, connections=conns,
                           output=lambda _text: None, folder=Path.cwd(),
                           deadline=asyncio.get_running_loop().time() + 10)
        return await builtin("shell").run(ctx)
    finally:
        await conns.aclose()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_a_local_command_gets_secrets_in_its_environment_not_its_argv() -> None:
    # Given a check naming an ${env:} secret and a secret variable, in and out of quotes
    obs = await run_shell(SHOW_ARGV_AND_HASH)
    # Then neither the shell's argv nor ps shows the value (output here is raw, not redacted)
    lines = obs.output.splitlines()
    assert "s3cr3t" not in lines[0]
    assert "s3cr3t" not in lines[1]
    assert "PREDEPLOY_SECRET_1" in lines[0]
    # And the command still received each value whole, whatever quoting it stood in
    assert lines[2].split()[0] == sha(SECRET)
    assert lines[3].split()[0] == sha(f"[{SECRET}]")
    assert lines[4].split()[0] == sha(f"[{SECRET}]")


def test_the_resolved_command_names_variables_and_the_values_travel_apart() -> None:
    template = Template({"db_password": SECRET}, environ={"DEPLOY_TOKEN": SECRET},
                        secret_names={"db_password"})
    check = template.check(CheckSpec("shell", MappingProxyType(
        {"run": "a ${env:DEPLOY_TOKEN} \"b ${db_password}\" 'c ${env:DEPLOY_TOKEN}'"}), None, 5.0))
    assert SECRET not in check.params["run"]
    assert dict(check.env) == {"PREDEPLOY_SECRET_1": SECRET}
    assert check.shown["run"] == "a *** \"b ***\" 'c ***'"
    words = subprocess.run(["/bin/sh", "-c", check.params["run"].replace("a ", "printf '%s\\n' ", 1)],
                           env={"PREDEPLOY_SECRET_1": SECRET}, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert words == [SECRET, f"b {SECRET}", f"c {SECRET}"]


@pytest.mark.parametrize("params", [{"run": ["echo", "${env:DEPLOY_TOKEN}"]},
                                    {"run": "echo ${db_password}", "shell": False}])
def test_a_secret_in_an_argument_list_is_refused(params: dict[str, object]) -> None:
    template = Template({"db_password": SECRET}, environ={"DEPLOY_TOKEN": SECRET},
                        secret_names={"db_password"})
    with pytest.raises(TemplateError, match="argument list"):
        template.check(CheckSpec("shell", MappingProxyType(params), None, 5.0))
