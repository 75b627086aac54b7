"""The redis check type against real redis-server processes: a primary, its replica, one with a password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import redis as rs
from servers.run_check import run_check, undocumented

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
    assert isinstance(repl["lag_bytes"], int)
    assert isinstance(repl["link_idle_seconds"], int)
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


@pytest.fixture(scope="module")
def idle_pair() -> Iterator[tuple[rs.RedisServer, rs.RedisServer]]:
    """A primary that pings its replica once an hour, so the replica's link goes quiet at once."""
    primary = rs.start("--repl-ping-replica-period", "3600")
    replica = rs.start("--replicaof", "127.0.0.1", str(primary.port))
    try:
        rs.wait_for_link(replica)
        yield primary, replica
    finally:
        rs.remove(replica, primary)


async def test_an_idle_synced_replica_has_no_lag(idle_pair: tuple[rs.RedisServer, rs.RedisServer]) \
        -> None:
    # Given a fully synced replica that has heard nothing from its primary for 2 s or more
    _primary, replica = idle_pair
    rs.wait_for_link_idle(replica, 2)
    # When its lag is checked
    out = await run_check("redis", {"address": "127.0.0.1", "port": replica.port},
                          expect={"jmespath": "replication.lag_seconds", "le": 1})
    # Then lag comes from offsets (none behind) and acknowledgements, not the link's quiet time
    assert out.status is Status.PASS, out.summary
    assert out.obs is not None
    repl = out.obs.data["replication"]
    assert repl["link_idle_seconds"] >= 2
    computed = {k: v for k, v in repl.items() if k.startswith(("lag_", "link_", "primary_"))}
    assert undocumented("redis", {"ping": True, **computed}) == []
    assert repl["lag_bytes"] == 0
    assert repl["primary_repl_offset"] == repl["slave_repl_offset"]
    assert repl["lag_seconds"] <= 1
    assert "lag 0 bytes" in out.obs.summary


async def test_replica_lag_without_its_primary_is_not_measured(tmp_path: object) -> None:
    # Given a replica whose primary has gone
    primary = rs.start()
    replica = rs.start("--replicaof", "127.0.0.1", str(primary.port))
    try:
        rs.wait_for_link(replica)
        primary.stop()
        # When an expectation reads its lag, the item could not be checked: no number, no pass
        lag = await run_check("redis", {"address": "127.0.0.1", "port": replica.port},
                              expect={"jmespath": "replication.lag_bytes", "le": 1000}, timeout=5)
        assert lag.status is Status.ERROR, lag.summary
        assert lag.summary.startswith("replication lag not measured: the primary 127.0.0.1:")
        # And a check that does not ask about lag still reads the replica
        role = await run_check("redis", {"address": "127.0.0.1", "port": replica.port},
                               expect={"jmespath": "replication.role", "equals": "slave"}, timeout=5)
        assert role.status is Status.PASS, role.summary
        assert role.obs is not None
        assert "lag not measured" in role.obs.summary
    finally:
        rs.remove(replica, primary)


async def test_replication_as_redis_cli_reads_it(pair: tuple[rs.RedisServer, rs.RedisServer],
                                                 idle_pair: tuple[rs.RedisServer, rs.RedisServer]) \
        -> None:
    # The reference client and predeploy read the same fields with the same values
    for server in (*pair, *idle_pair):
        out = await run_check("redis", {"address": "127.0.0.1", "port": server.port})
        assert out.obs is not None
        ours = out.obs.data["replication"]
        theirs = rs.cli_info(server)
        for key in ("role", "connected_slaves", "master_replid", "master_host", "master_port",
                    "master_link_status", "slave_read_only", "repl_backlog_active"):
            if key in theirs:
                assert str(ours[key]) == theirs[key], key
    # On the idle pair nothing moves the offsets, so they match exactly, and so does the lag
    primary, replica = idle_pair
    theirs_primary, theirs_replica = rs.cli_info(primary), rs.cli_info(replica)
    out = await run_check("redis", {"address": "127.0.0.1", "port": replica.port})
    assert out.obs is not None
    ours = out.obs.data["replication"]
    assert ours["slave_repl_offset"] == int(theirs_replica["slave_repl_offset"])
    assert ours["primary_repl_offset"] == int(theirs_primary["master_repl_offset"])
    assert ours["lag_bytes"] == int(theirs_primary["master_repl_offset"]) - \
        int(theirs_replica["slave_repl_offset"])
    assert ours["link_idle_seconds"] >= int(theirs_replica["master_last_io_seconds_ago"])
