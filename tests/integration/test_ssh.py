"""The SSH transport and ``ssh`` check against a real OpenSSH sshd on loopback.

Covers ssh_config aliases, ProxyJump, the shared connection per host, host key refusal with the
fingerprint, authentication failure, unreachable endpoints, timeouts and a server killed mid-run.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from servers import sshd as sshd_server
from servers.run_check import Outcome, run_check, undocumented

from predeploy_tui.core.checklist import Host
from predeploy_tui.core.results import Status
from predeploy_tui.engine.connections import RunConnections

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not sshd_server.available(), reason="sshd is not installed")]


def connections(server: sshd_server.SSHServer, *, known_hosts: Path | None = None,
                hosts: dict[str, Host] | None = None, channels_per_host: int = 4) -> RunConnections:
    """Run connections pointed at ``server``'s ssh_config and known_hosts."""
    return RunConnections(hosts=hosts or {}, ssh_config=server.ssh_config,
                          known_hosts=known_hosts or server.known_hosts,
                          channels_per_host=channels_per_host)


@pytest.fixture
async def conns(sshd: sshd_server.SSHServer,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunConnections]:
    """Connections to the shared sshd, closed after the test."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    run = connections(sshd)
    yield run
    await run.aclose()


async def ssh(conns: RunConnections, host: str, command: str, *, timeout: float = 10.0,
              expect: dict[str, object] | None = None) -> Outcome:
    return await run_check("ssh", {"run": command, "host": host}, host=host, timeout=timeout,
                           expect=expect, connections=conns)


async def test_command_runs_on_an_alias_with_output_and_exit_code(conns: RunConnections) -> None:
    ok = await ssh(conns, "web1", "echo hello from $(hostname); echo warning >&2")
    assert ok.status is Status.PASS, ok.summary
    assert ok.obs is not None
    assert "hello from" in ok.obs.output
    assert "warning" in ok.obs.output
    failed = await ssh(conns, "web2", "echo 'replicas ready: 1 of 3'; exit 3",
                       expect={"regex": r"ready: (\d+)", "ge": 3})
    assert failed.status is Status.FAIL
    assert failed.obs is not None
    assert failed.obs.exit_code == 3


async def test_output_streams_while_the_command_runs(conns: RunConnections) -> None:
    seen: list[tuple[float, str]] = []
    transport = conns.transport("web3")
    result = await transport.run("echo first; sleep 0.7; echo second", timeout=10,
                                 on_output=lambda text: seen.append((time.monotonic(), text)))
    assert result.exit_code == 0
    assert result.stdout == "first\nsecond\n"
    first = next(t for t, text in seen if "first" in text)
    second = next(t for t, text in seen if "second" in text)
    assert second - first > 0.3  # "first" arrived before the command ended, not all at once


async def test_env_and_cwd_reach_the_remote_command(conns: RunConnections, tmp_path: Path) -> None:
    result = await conns.transport("web1").run("pwd; echo $RELEASE", timeout=10,
                                               env={"RELEASE": "1.4.2 rc"}, cwd=str(tmp_path))
    assert result.stdout.splitlines() == [str(tmp_path), "1.4.2 rc"]


async def test_one_connection_per_host_is_shared_by_its_checks(conns: RunConnections) -> None:
    # SSH_CONNECTION names the client's source port: one connection means one port per alias.
    outcomes = await asyncio.gather(*(ssh(conns, host, "echo $SSH_CONNECTION")
                                      for host in ("web1", "web2") for _ in range(6)))
    ports: dict[str, set[str]] = {"web1": set(), "web2": set()}
    for index, outcome in enumerate(outcomes):
        assert outcome.status is Status.PASS
        assert outcome.obs is not None
        ports["web1" if index < 6 else "web2"].add(outcome.obs.output.split()[1])
    assert len(ports["web1"]) == 1
    assert len(ports["web2"]) == 1
    assert ports["web1"] != ports["web2"]


async def test_proxy_jump_goes_through_the_jump_host(sshd: sshd_server.SSHServer,
                                                    conns: RunConnections) -> None:
    through = await ssh(conns, "behind", "echo reached")
    assert through.status is Status.PASS
    assert through.obs is not None
    assert through.obs.output.strip() == "reached"
    # A jump through a host that refuses our key fails naming the jump: the hop is really used.
    broken = connections(sshd, hosts={"db": Host(name="db", host="behind", proxy_jump="wrongkey")})
    try:
        outcome = await ssh(broken, "db", "echo never")
    finally:
        await broken.aclose()
    assert outcome.status is Status.ERROR
    assert "via jump host wrongkey" in outcome.summary
    assert "authentication failed" in outcome.summary


async def test_checklist_host_fields_override_the_ssh_config(sshd: sshd_server.SSHServer) -> None:
    hosts = {"prod": Host(name="prod", host="127.0.0.1", port=sshd.port, user=sshd.user,
                          identity_file=str(sshd.user_key))}
    run = connections(sshd, hosts=hosts)
    try:
        outcome = await ssh(run, "prod", "echo $USER")
    finally:
        await run.aclose()
    assert outcome.status is Status.PASS
    assert outcome.obs is not None
    assert outcome.obs.output.strip() == sshd.user


async def test_unknown_host_key_is_refused_with_its_fingerprint(sshd: sshd_server.SSHServer) -> None:
    run = connections(sshd, known_hosts=sshd.empty_known_hosts)
    try:
        outcome = await ssh(run, "web1", "echo never")
    finally:
        await run.aclose()
    fingerprint = sshd_server.fingerprint(sshd.host_key_line, sshd.folder)
    assert outcome.status is Status.ERROR
    assert outcome.summary == (f"host key for web1 (127.0.0.1:{sshd.port}) is not in known_hosts: "
                               f"ED25519 {fingerprint} (looked up as [127.0.0.1]:{sshd.port})")


async def test_changed_host_key_is_refused_naming_both_keys(sshd: sshd_server.SSHServer) -> None:
    run = connections(sshd, known_hosts=sshd.changed_known_hosts)
    try:
        outcome = await ssh(run, "web2", "echo never")
    finally:
        await run.aclose()
    offered = sshd_server.fingerprint(sshd.host_key_line, sshd.folder)
    assert outcome.status is Status.ERROR
    assert outcome.summary.startswith(f"host key for web2 (127.0.0.1:{sshd.port}) CHANGED")
    assert offered in outcome.summary
    assert "\n" not in outcome.summary


async def test_host_key_of_another_type_than_known_is_refused_as_changed(
        sshd: sshd_server.SSHServer) -> None:
    run = connections(sshd, known_hosts=sshd.other_type_known_hosts)
    try:
        outcome = await ssh(run, "web3", "echo never")
    finally:
        await run.aclose()
    assert outcome.status is Status.ERROR
    assert outcome.summary.startswith(f"host key for web3 (127.0.0.1:{sshd.port}) CHANGED")
    assert "ECDSA SHA256:" in outcome.summary


async def test_wrong_user_key_is_an_authentication_error(conns: RunConnections,
                                                         sshd: sshd_server.SSHServer) -> None:
    outcome = await ssh(conns, "wrongkey", "echo never", timeout=5)
    assert outcome.status is Status.ERROR
    assert outcome.summary == f"authentication failed for {sshd.user}@wrongkey (127.0.0.1:{sshd.port}): " \
                              "no offered key was accepted"
    assert outcome.elapsed < 6


async def test_endpoint_that_never_answers_times_out(sshd: sshd_server.SSHServer,
                                                     silent_port: int) -> None:
    hosts = {"silent": Host(name="silent", host="127.0.0.1", port=silent_port, user=sshd.user,
                            identity_file=str(sshd.user_key))}
    run = connections(sshd, hosts=hosts)
    try:
        outcome = await ssh(run, "silent", "echo never", timeout=1.5)
    finally:
        await run.aclose()
    assert outcome.status is Status.ERROR
    assert "timed out" in outcome.summary
    assert "silent" in outcome.summary
    assert outcome.elapsed < 1.5 + 1


async def test_refused_connection_is_an_error(sshd: sshd_server.SSHServer, refused_port: int) -> None:
    hosts = {"gone": Host(name="gone", host="127.0.0.1", port=refused_port)}
    run = connections(sshd, hosts=hosts)
    try:
        outcome = await ssh(run, "gone", "echo never", timeout=5)
    finally:
        await run.aclose()
    assert outcome.status is Status.ERROR
    assert outcome.summary == f"connection refused by gone (127.0.0.1:{refused_port})"


async def test_command_ignoring_sigterm_is_stopped_at_its_timeout(conns: RunConnections) -> None:
    outcome = await ssh(conns, "web4", "trap '' TERM; echo started; sleep 30", timeout=1.0)
    assert outcome.status is Status.ERROR
    assert "timed out" in outcome.summary
    assert outcome.elapsed < 1.0 + 1
    # The channel was closed, the connection is still good for the host's next check.
    again = await ssh(conns, "web4", "echo still here")
    assert again.status is Status.PASS


async def test_server_killed_mid_run_errors_while_the_rest_finishes(
        doomed_sshd: sshd_server.SSHServer) -> None:
    run = connections(doomed_sshd)
    try:
        warm = await ssh(run, "web1", "echo warm")
        assert warm.status is Status.PASS
        remote = [asyncio.create_task(ssh(run, host, "sleep 20", timeout=5))
                  for host in ("web1", "web2")]
        local = asyncio.create_task(run_check("shell", {"run": "sleep 1; echo local ok"},
                                              timeout=10, connections=run))
        await asyncio.sleep(0.5)
        killed_at = time.monotonic()
        doomed_sshd.kill()
        for outcome in await asyncio.gather(*remote):
            assert outcome.status is Status.ERROR
            assert "lost" in outcome.summary or "closed" in outcome.summary, outcome.summary
        assert time.monotonic() - killed_at < 5 + 1
        assert (await local).status is Status.PASS
        # The dead connection was discarded: the next check tries afresh and is refused...
        refused = await ssh(run, "web1", "echo again", timeout=5)
        assert refused.status is Status.ERROR
        assert "refused" in refused.summary
        # ...and once the server is back, the same run reconnects.
        doomed_sshd.start()
        back = await ssh(run, "web1", "echo back")
        assert back.status is Status.PASS, back.summary
    finally:
        await run.aclose()


async def test_channels_per_host_cap_is_respected(sshd: sshd_server.SSHServer) -> None:
    run = connections(sshd, channels_per_host=2)
    command = "echo start $(date +%s.%N); sleep 0.3; echo end $(date +%s.%N)"
    try:
        outcomes = await asyncio.gather(*(ssh(run, "web1", command) for _ in range(6)))
    finally:
        await run.aclose()
    spans = []
    for outcome in outcomes:
        assert outcome.status is Status.PASS
        assert outcome.obs is not None
        words = outcome.obs.output.split()
        spans.append((float(words[1]), float(words[3])))
    overlap = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert overlap == 2


async def test_output_longer_than_held_is_not_judged_on_its_head(conns: RunConnections) -> None:
    # Given a command over SSH printing more than is held, its last line a problem,
    command = "head -c 5000000 /dev/zero | tr '\\0' x; echo; echo ERROR at the end"
    # when a matcher reads the output, then it cannot judge what was cut: error, not a pass,
    hidden = await ssh(conns, "web1", command, timeout=30, expect={"not_contains": "ERROR"})
    assert hidden.status is Status.ERROR, hidden.summary
    # and the tail is held, with the cut marked: what a person reads ends as the command ended.
    assert hidden.obs is not None
    assert hidden.obs.output.endswith("ERROR at the end\n")
    assert "characters cut] …" in hidden.obs.output


async def test_a_command_killed_by_a_signal_is_never_judged(conns: RunConnections) -> None:
    # Given commands that print what an expectation wants, then die of a signal
    over_ssh = await ssh(conns, "web1", "echo ready; kill -9 $$", expect={"contains": "ready"})
    here = await run_check("shell", {"run": "echo ready; kill -9 $$"}, expect={"contains": "ready"})
    bare = await run_check("shell", {"run": "echo ready; kill -9 $$"})
    # Then none passes: there is no exit status, so the item could not be checked
    for outcome in (over_ssh, here, bare):
        assert outcome.status is Status.ERROR, outcome.summary
        assert "killed by a signal" in outcome.summary
    assert "on web1" in over_ssh.summary


# -- the reference clients: OpenSSH's ssh, df and free, here and over SSH -------------------------

def _openssh(sshd: sshd_server.SSHServer, host: str, command: str) -> subprocess.CompletedProcess[str]:
    """``command`` run by OpenSSH's client through the fixture's ssh_config and known_hosts."""
    return subprocess.run(["ssh", "-F", str(sshd.ssh_config), "-o", "BatchMode=yes",
                           "-o", f"UserKnownHostsFile={sshd.known_hosts}",
                           "-o", "StrictHostKeyChecking=yes", host, command],
                          capture_output=True, text=True, timeout=60)


def _df(text: str) -> tuple[int, int, int]:
    """(total, used, free) bytes from the last line of ``df -Pk``."""
    fields = text.splitlines()[-1].split()
    return int(fields[1]) * 1024, int(fields[2]) * 1024, int(fields[3]) * 1024


def _free(text: str) -> tuple[int, int]:
    """(total, available) bytes from the Mem: line of ``free -b``."""
    fields = next(line for line in text.splitlines() if line.startswith("Mem:")).split()
    return int(fields[1]), int(fields[6])


@pytest.mark.parametrize("command", [
    "echo hello; echo warning >&2; exit 3",
    "printf 'tab\\there\\nno newline at the end'",
    "cat /etc/hostname; id -un",
    "exit 0",
])
async def test_commands_as_openssh_and_sh_run_them(conns: RunConnections, sshd: sshd_server.SSHServer,
                                             command: str) -> None:
    # Over SSH as OpenSSH's client runs it, and here as /bin/sh runs it
    remote = (await ssh(conns, "web1", command), _openssh(sshd, "web1", command))
    local = (await run_check("shell", {"run": command}),
             subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=30))
    for ours, theirs in (remote, local):
        assert ours.obs is not None, ours.summary
        assert ours.obs.exit_code == theirs.returncode
        assert ours.obs.output.startswith(theirs.stdout)
        assert ours.obs.output.endswith(theirs.stderr)


async def test_disk_as_df_reads_it_here_and_over_ssh(conns: RunConnections,
                                                    sshd: sshd_server.SSHServer) -> None:
    # /dev (devtmpfs) holds still, so every figure matches; / is shared, so its size matches
    # exactly and what is free within 1% (others write to it meanwhile)
    for path in ("/dev", "/"):
        here = subprocess.run(["df", "-Pk", path], capture_output=True, text=True, timeout=30,
                              check=True)
        there = _openssh(sshd, "web2", f"df -Pk {path}")
        local = await run_check("disk", {"path": path})
        remote = await run_check("disk", {"path": path}, host="web2", connections=conns)
        for ours, theirs in ((local, here.stdout), (remote, there.stdout)):
            assert ours.obs is not None, ours.summary
            total, used, free = _df(theirs)
            data = ours.obs.data
            assert data["total"] == total
            assert undocumented("disk", data) == []
            if path == "/dev":
                assert (data["used"], data["free"]) == (used, free)
                assert ours.obs.value == free
            else:
                assert abs(data["free"] - free) < total / 100


async def test_memory_as_free_reads_it_here_and_over_ssh(conns: RunConnections,
                                                        sshd: sshd_server.SSHServer) -> None:
    here = subprocess.run(["free", "-b"], capture_output=True, text=True, timeout=30, check=True)
    there = _openssh(sshd, "web3", "free -b")
    local = await run_check("memory", {})
    remote = await run_check("memory", {}, host="web3", connections=conns)
    for ours, theirs in ((local, here.stdout), (remote, there.stdout)):
        assert ours.obs is not None, ours.summary
        total, available = _free(theirs)
        assert ours.obs.data["total"] == total
        assert undocumented("memory", ours.obs.data) == []
        # Available memory moves while the two read it: within 2% of the total
        assert abs(ours.obs.data["available"] - available) < total * 0.02
