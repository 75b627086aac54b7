"""Whole runs through the Runner and ``predeploy run --headless`` against the loopback servers.

Concurrency is proved by the order of events and by when the remote commands ran, faults by every
broken endpoint ending in ``error`` within its timeout while the rest of the run passes, and
redaction by secrets that never reach the printed output or the session file.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
from servers import sshd as openssh
from servers.dns import DNSServer
from servers.https import HTTPSServers

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.checklist import Checklist, load_checklist
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine.base import ItemFinished, ItemStarted, RunEvent
from predeploy_tui.engine.runner import Runner

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not openssh.available(), reason="sshd is not installed")]


def checklist(tmp_path: Path, items: list[str], head: str = "") -> Checklist:
    """A one-section checklist of ``items`` (YAML flow mappings), loaded through the real loader."""
    lines = ["id: net", "title: Network checks", textwrap.dedent(head), "sections:",
             "  - id: net", "    title: Network", "    groups:", "      - title: All",
             "        items:"]
    lines += [f"          - {item}" for item in items]
    path = tmp_path / "checklist.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_checklist(path)


def spans(results: dict[str, CheckResult]) -> dict[str, list[tuple[float, float]]]:
    """Per host, the (start, end) times the remote commands printed."""
    out: dict[str, list[tuple[float, float]]] = {}
    for result in results.values():
        host, start, end = result.output.split()
        out.setdefault(host, []).append((float(start), float(end)))
    return out


def most_at_once(times: list[tuple[float, float]]) -> int:
    return max(sum(1 for s, e in times if s <= t < e) for t, _ in times)


async def test_forty_sleeps_over_four_hosts_run_concurrently(ssh_env: openssh.SSHServer,
                                                             tmp_path: Path) -> None:
    # Given 40 checks of `sleep 1`, ten on each of four aliases of one sshd
    command = "echo $PD_HOST $(date +%s.%N); sleep 1; date +%s.%N"
    items = [f"{{id: s{i}, title: sleep {i}, check: {{type: ssh, host: {host}, "
             f"run: 'PD_HOST={host}; {command}', timeout: 20s}}}}"
             for i, host in enumerate(ssh_env.aliases * 10)]
    events: list[RunEvent] = []
    # The caps are raised on purpose: with the defaults (16 at once, 4 channels per host) the
    # 40 sleeps would run 4 hosts x 4 channels = 16 at a time, in 3 waves. Raised as an operator
    # would for such a run (`predeploy run --concurrency 40 --channels-per-host 10`), all forty
    # start before any finishes.
    runner = Runner(checklist(tmp_path, items), {}, by="tester", listeners=[events.append],
                    max_concurrency=40, channels_per_host=10, handshake_cap=10)
    # When they all run
    try:
        results = await runner.run()
    finally:
        await runner.aclose()
    # Then every one passed, all forty started before any finished, no host had more than its
    # channel cap at once, and the remote sleeps overlapped: concurrency shown by the events
    # and the commands' own clocks (how long it takes is bench/sshfanout's to measure).
    assert all(r.status is Status.PASS for r in results.values()), \
        [r.summary for r in results.values() if r.status is not Status.PASS]
    kinds = [type(e) for e in events if isinstance(e, ItemStarted | ItemFinished)]
    assert kinds.index(ItemFinished) >= 16
    assert kinds[:40] == [ItemStarted] * 40
    per_host = spans(results)
    assert sorted(per_host) == sorted(ssh_env.aliases)
    assert all(most_at_once(times) <= 10 for times in per_host.values())
    assert most_at_once([t for times in per_host.values() for t in times]) >= 16


async def test_default_channel_cap_queues_the_rest(ssh_env: openssh.SSHServer, tmp_path: Path) -> None:
    command = "echo web1 $(date +%s.%N); sleep 0.3; date +%s.%N"
    items = [f"{{id: q{i}, title: q {i}, check: {{type: ssh, host: web1, run: '{command}'}}}}"
             for i in range(8)]
    runner = Runner(checklist(tmp_path, items), {}, by="tester")
    try:
        results = await runner.run()
    finally:
        await runner.aclose()
    assert most_at_once(spans(results)["web1"]) == 4


async def test_faults_end_in_error_within_their_timeout_while_the_rest_passes(
        ssh_env: openssh.SSHServer, https_servers: HTTPSServers, dns_server: DNSServer,
        silent_port: int, refused_port: int, tmp_path: Path) -> None:
    # Given a run mixing healthy checks with every kind of broken endpoint, each with a 2 s timeout
    head = f"""\
        hosts:
          silent: {{host: 127.0.0.1, port: {silent_port}, user: {ssh_env.user},
                    identity_file: {ssh_env.user_key}}}
          refused: {{host: 127.0.0.1, port: {refused_port}}}
        """
    ca = https_servers.ca_file
    faults = {
        "ssh-silent": "{type: ssh, host: silent, run: 'true', timeout: 2s}",
        "ssh-refused": "{type: ssh, host: refused, run: 'true', timeout: 2s}",
        "ssh-wrong-key": "{type: ssh, host: wrongkey, run: 'true', timeout: 2s}",
        "ssh-sigterm": "{type: ssh, host: web1, run: \"trap '' TERM; sleep 30\", timeout: 2s}",
        "local-sigterm": "{type: shell, run: \"trap '' TERM; sleep 30\", timeout: 2s}",
        "http-silent": f"{{type: http, url: 'http://127.0.0.1:{silent_port}/', timeout: 2s}}",
        "http-refused": f"{{type: http, url: 'http://127.0.0.1:{refused_port}/', timeout: 2s}}",
        "tls-silent": f"{{type: tls, address: 127.0.0.1, port: {silent_port}, timeout: 2s}}",
        "dns-silent": f"{{type: dns, name: api.deploy.test, nameserver: 127.0.0.1, "
                      f"port: {refused_port}, timeout: 2s}}",
    }
    # An authoritative NXDOMAIN is an answer, not a fault: the name was checked, and it fails
    answered = {
        "dns-nxdomain": f"{{type: dns, name: nope.deploy.test, nameserver: 127.0.0.1, "
                        f"port: {dns_server.port}, timeout: 2s}}",
    }
    healthy = {
        "ssh-ok": "{type: ssh, host: web2, run: 'sleep 0.5; echo fine'}",
        "jump-ok": "{type: ssh, host: behind, run: 'echo jumped'}",
        "local-ok": "{type: shell, run: 'sleep 0.5; echo fine'}",
        "http-ok": f"{{type: http, url: 'https://localhost:{https_servers.valid}/health', "
                   f"ca_file: '{ca}', expect: {{jmespath: status, equals: ok}}}}",
        "tls-ok": f"{{type: tls, address: 127.0.0.1, port: {https_servers.valid}, "
                  f"server_name: localhost, ca_file: '{ca}', expect: {{ge: 30d}}}}",
        "dns-ok": f"{{type: dns, name: api.deploy.test, values: [10.0.0.10], nameserver: 127.0.0.1, "
                  f"port: {dns_server.port}}}",
    }
    items = [f"{{id: {key}, title: {key}, check: {spec}}}"
             for key, spec in {**faults, **answered, **healthy}.items()]
    runner = Runner(checklist(tmp_path, items, head), {}, by="tester")
    # When it runs
    try:
        results = await asyncio.wait_for(runner.run(), 30)
    finally:
        await runner.aclose()
    # Then each fault is an error with a one-line reason, within its timeout plus a second...
    for key in faults:
        result = results[f"net.{key}"]
        assert result.status is Status.ERROR, (key, result.status, result.summary)
        assert result.summary
        assert "\n" not in result.summary
        assert result.started is not None
        assert result.finished is not None
        assert (result.finished - result.started).total_seconds() < 2 + 1, key
    assert "authentication failed" in results["net.ssh-wrong-key"].summary
    assert "refused" in results["net.ssh-refused"].summary
    assert results["net.dns-nxdomain"].status is Status.FAIL
    assert "NXDOMAIN" in results["net.dns-nxdomain"].summary
    # ...and every healthy check passed beside them.
    for key in healthy:
        assert results[f"net.{key}"].status is Status.PASS, (key, results[f"net.{key}"].summary)


SHAPES = {
    "private key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
                   "-----END OPENSSH PRIVATE KEY-----",
    "aws key id": "AKIAQ3EGRZ7ZK4XJ2NMP",
    "aws secret": "aws_secret_access_key = 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",
    "bearer": "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0cGF5bG9hZA.sig123456",
    "url password": "postgres://deploy:Pg-Pa55w0rd-Q7@db.internal:5432/musicgen",
    "github": "ghp_R4nd0mGitHubT0kenValue1234567890abcd",
    "slack": "xoxb-2048-4096-S1ackT0kenV4lueXyZ",
    "password assignment": "password=Hunter2-Sup3r-S3cret",
}
"""Secret shapes a command might print, and the part of each that must never be saved."""
SECRET_PARTS = {
    "private key": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    "aws key id": "AKIAQ3EGRZ7ZK4XJ2NMP",
    "aws secret": "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",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0cGF5bG9hZA.sig123456",
    "url password": "Pg-Pa55w0rd-Q7",
    "github": "ghp_R4nd0mGitHubT0kenValue1234567890abcd",
    "slack": "xoxb-2048-4096-S1ackT0kenV4lueXyZ",
    "password assignment": "Hunter2-Sup3r-S3cret",
}
ENV_SECRET = "Dep/loy+T0ken=42&ok"
"""A ``${env:...}`` value whose URL and base64 forms differ from it."""


def test_secrets_never_reach_the_session_file_or_the_printed_output(
        ssh_env: openssh.SSHServer, tmp_path: Path) -> None:
    # Given a file of secret shapes on the SSH host and a secret in the environment
    shapes = tmp_path / "leaky.txt"
    shapes.write_text("\n".join(SHAPES.values()) + "\n")
    quote_py = "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=chr(0)[:0]))"
    items = [
        f"{{id: shapes, title: shapes over ssh, check: {{type: ssh, host: web1, run: 'cat {shapes}'}}}}",
        "{id: env, title: env value over ssh, check: {type: ssh, host: web2, run: "
        "'echo plain ${env:PD_TEST_TOKEN}; printf %s ${env:PD_TEST_TOKEN} | base64; "
        f"python3 -c \"{quote_py}\" ${{env:PD_TEST_TOKEN}}'}}}}",
        "{id: local, title: env value locally, check: {type: shell, "
        "run: 'echo local ${env:PD_TEST_TOKEN}; exit 1'}}",
    ]
    checklist(tmp_path, items)
    session = tmp_path / "session.toml"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PD_TEST_TOKEN": ENV_SECRET,
           "PREDEPLOY_SSH_CONFIG": str(ssh_env.ssh_config),
           "PREDEPLOY_KNOWN_HOSTS": str(ssh_env.known_hosts)}
    # When `predeploy run --headless` runs them into a session file
    done = subprocess.run(
        [str(Path(sys.executable).parent / "predeploy"), "run", str(tmp_path / "checklist.yaml"),
         "--headless", "--session", str(session), "--deployer", "tester"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    # Then the checks really ran (the evidence is there, masked) ...
    saved = session.read_text()
    printed = done.stdout + done.stderr
    assert done.returncode in (3, 4), printed
    assert "***" in saved
    assert "plain ***" in saved
    assert "local ***" in saved
    assert "BEGIN OPENSSH PRIVATE KEY" not in saved or SECRET_PARTS["private key"] not in saved
    # ... and no secret, in any form, is in the session file or what was printed.
    forbidden = [*SECRET_PARTS.values(), ENV_SECRET, quote(ENV_SECRET, safe=""),
                 base64.b64encode(ENV_SECRET.encode()).decode()]
    for secret in forbidden:
        assert secret not in saved, secret
        assert secret not in printed, secret


def test_run_command_caps_reach_the_runner(ssh_env: openssh.SSHServer, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # Given 8 sleeps over two hosts, which the default caps (16, 4 per host) would run at once
    command = "echo $PD_HOST $(date +%s.%N); sleep 0.4; date +%s.%N"
    items = [f"{{id: c{i}, title: c {i}, check: {{type: ssh, host: {host}, "
             f"run: 'PD_HOST={host}; {command}', timeout: 20s}}}}"
             for i, host in enumerate(["web1", "web2"] * 4)]
    checklist(tmp_path, items)
    session = tmp_path / "caps.toml"
    # When `predeploy run` is told 3 at once, 2 channels per host
    code = main(["run", str(tmp_path / "checklist.yaml"), "--session", str(session),
                 "--deployer", "tester", "--concurrency", "3", "--channels-per-host", "2",
                 "--handshakes", "1"])
    # Then no host ever had more than 2 commands running; --concurrency caps local checks only,
    # so SSH checks are bounded by the channels per host: at most 2 x 2 hosts (tests/engine/test_caps)
    assert code == 0, capsys.readouterr()
    saved = store.load(session)
    per_host = spans({key: state.runs[-1] for key, state in saved.items.items()})
    assert sorted(per_host) == ["web1", "web2"]
    assert all(most_at_once(times) <= 2 for times in per_host.values())
    assert 2 <= most_at_once([t for times in per_host.values() for t in times]) <= 4
