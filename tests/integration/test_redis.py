"""The redis check type against real redis-server processes: a primary, its replica, one with a password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import redis as rs
from servers.run_check import run_check

from predeploy_tui.core.results import Status

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not rs.available(), reason="redis-server not installed")]


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[rs.RedisServer, rs.RedisServer]]:
    primary = rs.start()
    replica = rs.start("--replicaof", "127.0.0.1", str(primary.port))
    try:
        rs.wait_for_link(replica)
        yield primary, replica
    finally:
        rs.remove(replica, primary)


@pytest.fixture(scope="module")
def locked() -> Iterator[rs.RedisServer]:
    server = rs.start("--requirepass", rs.PASSWORD)
    yield server
    rs.remove(server)


async def test_primary_ping_and_replication(pair: tuple[rs.RedisServer, rs.RedisServer]) -> None:
    primary, replica = pair
    out = await run_check("redis", {"address": "127.0.0.1", "port": primary.port},
                          expect={"ge": 1, "label": "connected replicas"})
    assert out.status is Status.PASS, out.summary
    assert out.obs is not None
    data = out.obs.data
    assert data["ping"] is True
    repl = data["replication"]
    assert repl["role"] == "master"
    assert repl["connected_slaves"] == 1
    assert isinstance(repl["master_repl_offset"], int)
    assert repl["slave0"]["port"] == replica.port
    assert repl["lag_bytes"] == repl["master_repl_offset"] - repl["slave0"]["offset"]
    assert repl["lag_bytes"] >= 0
    assert "PING -> PONG" in out.obs.output
    assert "role:master" in out.obs.output
    assert "1 connected replica" in out.obs.summary

    lag = await run_check("redis", {"url": f"redis://127.0.0.1:{primary.port}/0"},
                          expect={"jmespath": "replication.lag_bytes", "le": 1_000_000})
    assert lag.status is Status.PASS, lag.summary


async def test_replica_fields(pair: tuple[rs.RedisServer, rs.RedisServer]) -> None:
    _, replica = pair
    out = await run_check("redis", {"address": "127.0.0.1", "port": replica.port,
                                    "info": ["replication", "server"]},
                          expect={"jmespath": "replication.master_link_status", "equals": "up"})
    assert out.status is Status.PASS, out.summary
    assert out.obs is not None
    repl = out.obs.data["replication"]
    assert repl["role"] == "slave"
    assert isinstance(repl["lag_seconds"], int)
    assert repl["lag_seconds"] >= 0
    assert out.obs.data["server"]["tcp_port"] == replica.port

    as_primary = await run_check("redis", {"address": "127.0.0.1", "port": replica.port},
                                 expect={"jmespath": "replication.role", "equals": "master"})
    assert as_primary.status is Status.FAIL
    assert "replication.role = slave" in as_primary.summary


async def test_password(locked: rs.RedisServer) -> None:
    ok = await run_check("redis", {"address": "127.0.0.1", "port": locked.port,
                                   "password": rs.PASSWORD, "info": []})
    assert ok.status is Status.PASS, ok.summary
    assert ok.obs is not None
    assert ok.obs.data == {"ping": True}

    wrong = await run_check("redis", {"address": "127.0.0.1", "port": locked.port,
                                      "password": "wrong"}, timeout=5)
    assert wrong.status is Status.ERROR
    assert wrong.summary.startswith(f"Redis authentication failed at 127.0.0.1:{locked.port}")
    assert "\n" not in wrong.summary
    assert rs.PASSWORD not in wrong.summary

    none = await run_check("redis", {"address": "127.0.0.1", "port": locked.port}, timeout=5)
    assert none.status is Status.ERROR
    assert none.summary.startswith(f"Redis at 127.0.0.1:{locked.port} requires a password")


async def test_server_down() -> None:
    port = rs.free_port()
    out = await run_check("redis", {"address": "127.0.0.1", "port": port}, timeout=3)
    assert out.status is Status.ERROR
    assert out.summary.startswith(f"cannot connect to Redis at 127.0.0.1:{port}")
    assert out.elapsed < 4


async def test_server_that_never_answers_times_out() -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        out = await run_check("redis", {"address": "127.0.0.1", "port": port}, timeout=1.5)
    assert out.status is Status.ERROR
    assert "127.0.0.1" in out.summary
    assert out.elapsed < 2.5
