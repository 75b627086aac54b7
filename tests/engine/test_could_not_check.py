""""Could not check" is one class: a command that could not be found or run is an error."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import CheckError, CommandResult, could_not_run
from predeploy_tui.engine.local import LocalTransport
from predeploy_tui.engine.runner import Runner


@pytest.mark.parametrize("script", [
    # The missing tool's exit code is swallowed and the script goes on to succeed.
    "no-such-tool-xyz --scan; true",
    'test -z "$(no-such-tool-xyz status --porcelain)"',
    "no-such-tool-xyz images | grep -q . || exit 0",
    "no-such-tool-xyz -r pkg/; rc=$?; [ $rc -ne 127 ] || exit 0",
])
async def test_a_tool_missing_anywhere_in_a_script_is_an_error(script: str) -> None:
    with pytest.raises(CheckError, match="command not found: no-such-tool-xyz"):
        await LocalTransport().run(script, timeout=10)


@pytest.mark.parametrize("script", [
    # The same scripts with a tool that is there but reports a finding: a judged result.
    "false; true",
    'test -z "$(echo changed)"',
])
async def test_a_tool_that_ran_is_judged_by_its_exit_code(script: str) -> None:
    result = await LocalTransport().run(script, timeout=10)
    assert result.exit_code is not None


async def test_a_file_that_cannot_be_executed_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    with pytest.raises(CheckError, match="Permission denied"):
        await LocalTransport().run(f"{script}", timeout=10)


async def test_a_missing_interpreter_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "check.sh"
    script.write_text("#!/usr/bin/env no-such-interpreter-xyz\nexit 0\n")
    script.chmod(0o755)
    with pytest.raises(CheckError, match="command not found: no-such-interpreter-xyz"):
        await LocalTransport().run([str(script)], timeout=10)


@pytest.mark.parametrize(("code", "stderr", "why"), [
    (1, "/bin/sh: 1: bandit: not found\n", "command not found: bandit"),
    (0, "/srv/checks/scan.sh: 12: pip-audit: not found\n", "command not found: pip-audit"),
    (127, "bash: line 1: nvidia-smi: command not found\n", "command not found: nvidia-smi"),
    (127, "bash: kubectl: command not found\n", "command not found: kubectl"),
    (127, "zsh: command not found: promtool\n", "command not found: promtool"),
    (127, "bash: line 1: /opt/x/nvidia-smi: No such file or directory\n",
     "command not found: /opt/x/nvidia-smi"),
    (127, "/usr/bin/env: \u2018bash\u2019: No such file or directory\n", "command not found: bash"),
    (1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
        "daemon running?\n",
     "could not check: Cannot connect to the Docker daemon at unix:///var/run/docker.sock"),
    (1, "The connection to the server localhost:8080 was refused - did you specify the right "
        "host or port?\n", "could not check: The connection to the server localhost:8080 was "
                           "refused"),
    (127, "", "command not found (exit 127)"),
    (126, "", "command found but not executable (exit 126)"),
])
def test_what_shells_say_when_a_command_could_not_run(code: int, stderr: str, why: str) -> None:
    assert could_not_run(CommandResult(code, "", stderr)) == why


@pytest.mark.parametrize(("code", "stderr"), [
    (1, "Error: file not found\n"),
    (2, "grep: /etc/missing: No such file or directory\n"),
    (1, "3 packages with known vulnerabilities\n"),
    (0, ""),
])
def test_ordinary_failures_and_messages_are_left_to_the_matcher(code: int, stderr: str) -> None:
    assert could_not_run(CommandResult(code, "", stderr)) is None


async def test_strict_shell_checks_stop_at_a_failing_command_or_pipeline_part(
        make_checklist: Callable[..., Checklist], items: Callable[..., str]) -> None:
    """`strict: true` runs the text with bash -euo pipefail: `false | cat` no longer passes."""
    checklist = make_checklist(items(
        "{id: loose, title: Loose, check: {type: shell, run: 'false | cat'}}",
        "{id: strict, title: Strict, check: {type: shell, strict: true, run: 'false | cat'}}",
        "{id: unset, title: Unset, check: {type: shell, strict: true, run: 'echo $NOT_SET_XYZ'}}",
        "{id: early, title: Early, check: {type: shell, strict: true, run: 'false; echo on'}}",
        "{id: fine, title: Fine, check: {type: shell, strict: true, run: 'echo ok | cat'}}"))
    runner = Runner(checklist, {}, by="ann", environ={"PATH": os.environ["PATH"]})
    results = await runner.run()
    await runner.aclose()
    status = {key.rsplit(".", 1)[1]: r.status for key, r in results.items()}
    assert status == {"loose": Status.PASS, "strict": Status.FAIL, "unset": Status.FAIL,
                      "early": Status.FAIL, "fine": Status.PASS}
    assert runner.plan([next(k for k in results if k.endswith(".strict"))])[0].target == \
        "bash -euo pipefail -c 'false | cat'"


async def test_a_docker_daemon_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    """`docker images | grep x` failed (fail) when docker could not reach its daemon."""
    import shutil

    if shutil.which("docker") is None:
        pytest.skip("the docker client is not installed here")
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock", "HOME": str(tmp_path)}
    with pytest.raises(CheckError, match="could not check: Cannot connect to the Docker daemon"):
        await LocalTransport().run("docker images | grep -q musicgen", timeout=30, env=env)
