"""Checks guessed by ``predeploy import`` run against the loopback servers, headless.

A foreign checklist with inline commands and placeholders is imported, its YAML validated, and
``predeploy run --headless --var ...`` judges the guesses: the curl smoke test as an http check of
the placeholder URL with the status the title asks for, ``psql "<dsn>"`` as a shell command (the
placeholder moved out of its quotes, since the engine quotes values), ``redis-cli -u <redis-url>
ping`` as a redis check; the ``git push`` action is not run headless.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import postgres as pg
from servers import redis as rs
from servers.https import HTTPSServers

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.results import Status

MARKDOWN = """\
---
name: live-smoke
title: Live smoke test
---

## Verify
- [ ] Health answers: `curl -s -o /dev/null -w '%{http_code}' --cacert <ca-file> URL` returns 200
- [ ] Database answers (`psql "<dsn>" -tAc 'select 1'`)
- [ ] Cache answers (`redis-cli -u <redis-url> ping`)

## Ship
1. Push the tag: `git push origin v[VERSION]`
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[pg.PostgresServer]:
    if not pg.available():
        pytest.skip("PostgreSQL server binaries are not installed")
    server = pg.start_server()
    yield server
    pg.remove(server)


@pytest.fixture(scope="module")
def redis() -> Iterator[rs.RedisServer]:
    if not rs.available():
        pytest.skip("redis-server is not installed")
    server = rs.start()
    yield server
    rs.remove(server)


def imported(tmp_path: Path) -> Path:
    md = tmp_path / "SMOKE.md"
    md.write_text(MARKDOWN, encoding="utf-8")
    out = tmp_path / "smoke.yaml"
    assert main(["import", str(md), "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    return out


def run(checklist: Path, session: Path, **variables: str) -> int:
    argv = ["run", str(checklist), "--headless", "--session", str(session), "--deployer", "tester"]
    for name, value in variables.items():
        argv += ["--var", f"{name}={value}"]
    return main(argv)


def test_imported_guesses_run_against_the_servers(
        tmp_path: Path, https_servers: HTTPSServers, postgres: pg.PostgresServer,
        redis: rs.RedisServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    checklist_path = imported(tmp_path)
    checklist = load_checklist(checklist_path)
    assert checklist.id == "live-smoke"
    assert sorted(v.name for v in checklist.variables) == ["ca_file", "dsn", "redis_url", "url",
                                                          "version"]
    kinds = {i.id: (i.kind, i.check.type if i.check else None) for i in checklist.items()}
    assert kinds == {"health-answers-returns-200": ("check", "http"),
                     "database-answers": ("check", "shell"),
                     "cache-answers": ("check", "redis"), "push-the-tag": ("action", "shell")}
    monkeypatch.setenv("PGPASSWORD", pg.PASSWORD)
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "10")
    common = {"ca_file": str(https_servers.ca_file), "dsn": postgres.dsn,
              "redis_url": f"redis://127.0.0.1:{redis.port}", "version": "1.0.0"}

    good = tmp_path / "good.toml"
    run(checklist_path, good, url=f"https://localhost:{https_servers.valid}/health", **common)
    printed = capsys.readouterr()
    states = store.load(good).items
    assert {key: state.status for key, state in states.items()} == {
        "verify.health-answers-returns-200": Status.PASS, "verify.database-answers": Status.PASS,
        "verify.cache-answers": Status.PASS, "ship.push-the-tag": Status.SKIPPED}, printed
    assert "1" in (states["verify.database-answers"].runs[-1].output or "")

    # The same checklist, told a URL that answers 404 and a database that refuses the login:
    # the guessed status is what is judged, and the shell guess fails on psql's exit code.
    bad = tmp_path / "bad.toml"
    monkeypatch.setenv("PGPASSWORD", "wrong")
    run(checklist_path, bad, url=f"https://localhost:{https_servers.valid}/status/404", **common)
    states = store.load(bad).items
    assert states["verify.health-answers-returns-200"].status == Status.FAIL
    assert states["verify.database-answers"].status == Status.FAIL
    assert states["verify.cache-answers"].status == Status.PASS
