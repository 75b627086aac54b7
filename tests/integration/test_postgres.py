"""The postgres check type against a real PostgreSQL 15 started by initdb/pg_ctl in a temp folder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from servers import postgres as pg
from servers.run_check import run_check, undocumented

from predeploy_tui.core.compare import baseline_moves
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import ItemState
from predeploy_tui.core.vocab import ItemKind

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not pg.available(), reason="PostgreSQL 15 binaries not installed")]

SEED_ROLLBACK = """SELECT version_number, rollback_script IS NOT NULL as has_rollback
FROM schema_versions
ORDER BY version_id DESC
LIMIT 5;"""
SEED_ROLLBACK_COUNT = "SELECT COUNT(*) FROM schema_versions WHERE rollback_script IS NOT NULL;"
SEED_BASELINE = """SELECT
  query,
  calls,
  mean_exec_time,
  total_exec_time
FROM pg_stat_statements
ORDER BY mean_exec_time DESC
LIMIT 20;"""


@pytest.fixture(scope="module")
def server() -> Iterator[pg.PostgresServer]:
    srv = pg.start_server()
    srv.setup_sql(
        "CREATE TABLE schema_versions (version_id serial PRIMARY KEY, version_number text NOT NULL,"
        " rollback_script text)",
        "INSERT INTO schema_versions (version_number, rollback_script) VALUES"
        " ('1.0.0', 'DROP TABLE a'), ('1.1.0', 'DROP TABLE b'), ('1.2.0', NULL),"
        " ('1.3.0', 'ALTER TABLE c DROP COLUMN d'), ('1.4.0', 'DROP INDEX e'),"
        " ('1.5.0', 'DROP TABLE f')",
        f"GRANT SELECT ON schema_versions TO {pg.USER}",
        f"GRANT CREATE ON SCHEMA public TO {pg.USER}",
    )
    yield srv
    pg.remove(srv)


def params(server: pg.PostgresServer, query: str, **extra: object) -> dict[str, object]:
    return {"dsn": server.dsn, "password": pg.PASSWORD, "query": query, **extra}


async def test_seed_rollback_count_passes_and_fails_by_threshold(server: pg.PostgresServer) -> None:
    ok = await run_check("postgres", params(server, SEED_ROLLBACK_COUNT), expect={"ge": 5})
    assert ok.status is Status.PASS, ok.summary
    assert ok.obs is not None
    assert ok.obs.value == 5
    assert ok.obs.label == "count"
    assert ok.obs.data == {"columns": ["count"], "rows": [{"count": 5}], "row_count": 1}
    assert "count 5 >= 5" in ok.summary

    short = await run_check("postgres", params(server, SEED_ROLLBACK_COUNT), expect={"ge": 6})
    assert short.status is Status.FAIL
    assert "count 5 < 6" in short.summary


async def test_seed_rollback_rows_are_evidence_and_judged_with_jmespath(
        server: pg.PostgresServer) -> None:
    out = await run_check("postgres", params(server, SEED_ROLLBACK),
                          expect={"each": "rows[].has_rollback", "equals": True})
    assert out.obs is not None
    data = out.obs.data
    assert data["columns"] == ["version_number", "has_rollback"]
    assert undocumented("postgres", {k: v for k, v in data.items() if k != "rows"}) == []
    assert [r["version_number"] for r in data["rows"]] == ["1.5.0", "1.4.0", "1.3.0", "1.2.0", "1.1.0"]
    assert data["rows"][3] == {"version_number": "1.2.0", "has_rollback": False}
    # The text table a reviewer reads: header, rule, one line per row.
    lines = out.obs.output.splitlines()
    assert lines[0].split(" | ")[0].strip() == "version_number"
    assert "1.2.0" in lines[5]
    assert "False" in lines[5]
    assert out.status is Status.FAIL
    assert "4 of 5 rows" in out.summary

    capped = await run_check("postgres", params(server, SEED_ROLLBACK, max_rows=2),
                             expect={"jmespath": "row_count", "eq": 5})
    assert capped.status is Status.PASS, capped.summary
    assert capped.obs is not None
    assert len(capped.obs.data["rows"]) == 2
    assert "first 2 shown" in capped.obs.output


async def test_baseline_capture_and_a_query_made_slower(server: pg.PostgresServer) -> None:
    # Given a statement whose mean time is known
    server.setup_sql("SELECT pg_stat_statements_reset()")
    for _ in range(3):
        await run_check("postgres", params(server, "SELECT pg_sleep(0.02)"))
    first = await run_check("postgres", params(server, SEED_BASELINE, baseline=True))
    assert first.status is Status.PASS, first.summary
    assert first.obs is not None
    old = first.obs.data
    sleep_key = next(k for k in old["baseline"] if "pg_sleep" in k)
    assert old["baseline_metric"] == "mean_exec_time"
    assert old["baseline"][sleep_key]["mean_exec_time"] >= 20
    assert old["baseline"][sleep_key]["calls"] == 3

    # When it becomes much slower (same normalised statement, longer sleeps)
    for _ in range(3):
        await run_check("postgres", params(server, "SELECT pg_sleep(0.1)"))
    second = await run_check("postgres", params(server, SEED_BASELINE, baseline=True))
    assert second.obs is not None

    # Then comparing the two baselines (as `predeploy diff` does) reports it, and an unchanged
    # baseline reports nothing
    before, after = (ItemState("db.baseline", "Baseline", ItemKind.CHECK,
                               runs=[CheckResult(Status.PASS, "rows", data=data)])
                     for data in (old, second.obs.data))
    entry = next(m for m in baseline_moves("db.baseline", before, after) if m.row == sleep_key)
    assert entry.metric == "mean_exec_time"
    assert entry.pct >= 50
    assert entry.new > entry.old
    assert baseline_moves("db.baseline", before, before) == []


async def test_wrong_password_is_a_readable_error(server: pg.PostgresServer) -> None:
    out = await run_check("postgres", {**params(server, "SELECT 1"), "password": "wrong"},
                          timeout=5)
    assert out.status is Status.ERROR
    assert "password authentication failed" in out.summary
    assert "\n" not in out.summary
    assert out.elapsed < 6


async def test_statement_timeout_cancels_within_the_check_timeout(server: pg.PostgresServer) -> None:
    out = await run_check("postgres", params(server, "SELECT pg_sleep(30)"), timeout=2)
    assert out.status is Status.ERROR
    assert "statement timeout" in out.summary
    assert out.elapsed < 3


async def test_a_check_is_read_only_and_an_action_may_write(server: pg.PostgresServer) -> None:
    create = "CREATE TABLE deploy_marker (id int)"
    check = await run_check("postgres", params(server, create))
    assert check.status is Status.ERROR
    assert "read-only transaction" in check.summary
    action = await run_check("postgres", params(server, create), is_action=True)
    assert action.status is Status.PASS, action.summary
    seen = await run_check("postgres", params(server, "SELECT count(*) FROM deploy_marker"),
                           expect={"eq": 0})
    assert seen.status is Status.PASS, seen.summary


async def test_service_file_and_pg_environment(server: pg.PostgresServer,
                                               monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: object) -> None:
    from pathlib import Path

    service_file = Path(str(tmp_path)) / "pg_service.conf"
    service_file.write_text(f"[prod-db]\nhost=127.0.0.1\nport={server.port}\n"
                            f"dbname={pg.DATABASE}\nuser={pg.USER}\n")
    monkeypatch.setenv("PGSERVICEFILE", str(service_file))
    via_service = await run_check("postgres", {"service": "prod-db", "password": pg.PASSWORD,
                                               "query": "SELECT current_user"},
                                  expect={"equals": pg.USER})
    assert via_service.status is Status.PASS, via_service.summary

    monkeypatch.delenv("PGSERVICEFILE")
    for name, value in (("PGHOST", "127.0.0.1"), ("PGPORT", str(server.port)),
                        ("PGUSER", pg.USER), ("PGDATABASE", pg.DATABASE)):
        monkeypatch.setenv(name, value)
    via_env = await run_check("postgres", {"password": pg.PASSWORD, "query": "SELECT 41 + 1"},
                              expect={"eq": 42})
    assert via_env.status is Status.PASS, via_env.summary


async def test_missing_table_and_refused_connection_are_errors(server: pg.PostgresServer) -> None:
    missing = await run_check("postgres", params(server, "SELECT * FROM no_such_table"))
    assert missing.status is Status.ERROR
    assert 'relation "no_such_table" does not exist' in missing.summary
    refused = await run_check("postgres", {"dsn": f"host=127.0.0.1 port={pg.free_port()} user=x",
                                           "password": "x", "query": "SELECT 1"}, timeout=5)
    assert refused.status is Status.ERROR
    assert "Connection refused" in refused.summary


async def test_server_stopped_mid_run(server: pg.PostgresServer) -> None:
    # Given a long query in flight
    running = asyncio.create_task(
        run_check("postgres", params(server, "SELECT pg_sleep(20)"), timeout=8))
    await asyncio.sleep(1.0)
    try:
        # When the server shuts down under it
        await asyncio.to_thread(server.stop, "fast")
        out = await running
    finally:
        await asyncio.to_thread(server.start)
    # Then the check ends at once with an error saying the connection went away
    assert out.status is Status.ERROR
    assert out.summary.startswith("PostgreSQL connection failed:")
    assert "administrator command" in out.summary or "closed the connection" in out.summary
    assert out.elapsed < 9


async def test_several_statements_cannot_escape_read_only(server: pg.PostgresServer) -> None:
    # COMMIT ends the read-only transaction the check opened; the CREATE after it would run in a
    # new, writable one unless the connection itself makes every transaction read-only.
    sneaky = "COMMIT; CREATE TABLE sneaky_marker (id int)"
    check = await run_check("postgres", params(server, sneaky))
    assert check.status is Status.ERROR, check.summary
    assert "read-only transaction" in check.summary
    exists = "SELECT count(*) FROM pg_tables WHERE tablename = 'sneaky_marker'"
    seen = await run_check("postgres", params(server, exists), expect={"eq": 0})
    assert seen.status is Status.PASS, seen.summary
    # A DSN that brings its own options keeps them, and is still read-only.
    own = f"{server.dsn} options='-c search_path=pg_catalog'"
    assert (await run_check("postgres", {**params(server, sneaky), "dsn": own})).status \
        is Status.ERROR
    kept = await run_check("postgres", {**params(server, "SHOW search_path"), "dsn": own},
                           expect={"equals": "pg_catalog"})
    assert kept.status is Status.PASS, kept.summary
    guarded = await run_check("postgres", params(server, "SHOW default_transaction_read_only"),
                              expect={"equals": "on"})
    assert guarded.status is Status.PASS, guarded.summary
    # The same statements as an action write.
    action = await run_check("postgres", params(server, sneaky), is_action=True)
    assert action.status is Status.PASS, action.summary
    created = await run_check("postgres", params(server, exists), expect={"eq": 1})
    assert created.status is Status.PASS, created.summary


BAD_ROW_140 = "SELECT n, n <> 140 AS ok FROM generate_series(1, 140) AS n ORDER BY n"
"""140 rows, the last one bad: past the default max_rows of 100."""


async def test_an_expectation_never_passes_on_rows_cut_to_max_rows(server: pg.PostgresServer) -> None:
    # Given a result of 140 rows whose 140th is bad, and expectations over every row
    over_all_rows = [{"jmespath": "length(rows[?!ok])", "eq": 0},
                     {"each": "rows[].ok", "equals": True},
                     {"not_contains": "False"}]
    for expect in over_all_rows:
        # When the default max_rows (100) keeps only part of it
        cut = await run_check("postgres", params(server, BAD_ROW_140), expect=expect)
        # Then the item could not be checked, and says why: never a pass on the first 100 rows
        assert cut.status is Status.ERROR, (expect, cut.summary)
        assert "returned 140 rows, more than max_rows 100" in cut.summary
        # And with room for every row the bad one is seen
        whole = await run_check("postgres", params(server, BAD_ROW_140, max_rows=200), expect=expect)
        assert whole.status is Status.FAIL, (expect, whole.summary)
    # An expectation on what stays exact (the row count) still judges a cut result
    count = await run_check("postgres", params(server, BAD_ROW_140),
                            expect={"jmespath": "row_count", "eq": 140})
    assert count.status is Status.PASS, count.summary
    headline = await run_check("postgres", params(server, BAD_ROW_140), expect={"ge": 140})
    assert headline.status is Status.PASS, headline.summary
    baseline = await run_check("postgres", params(server, BAD_ROW_140, max_rows=10, baseline=True,
                                                  baseline_key="n", baseline_metric="n"))
    assert baseline.status is Status.ERROR
    assert "a baseline needs every row" in baseline.summary


def _psql(server: pg.PostgresServer, query: str) -> list[list[str]]:
    """Rows as psql prints them unaligned (-A -t), split on its field separator."""
    import os
    import subprocess

    done = subprocess.run(["psql", server.dsn, "-X", "-A", "-t", "-F", "\x1f", "-c", query],
                          capture_output=True, text=True, timeout=30, check=True,
                          env={**os.environ, "PGPASSWORD": pg.PASSWORD})
    return [line.split("\x1f") for line in done.stdout.splitlines()]


def _same_cell(ours: object, theirs: str) -> bool:
    """Whether predeploy's cell is the value psql printed (numbers compared as numbers)."""
    from decimal import Decimal

    if ours is None:
        return theirs == ""
    if isinstance(ours, bool):
        return theirs == ("t" if ours else "f")
    if isinstance(ours, int | float):
        return Decimal(str(ours)) == Decimal(theirs)
    return str(ours) == theirs


async def test_rows_and_count_as_psql_reads_them(server: pg.PostgresServer) -> None:
    # The reference client and predeploy see the same rows, values and count
    queries = [SEED_ROLLBACK, SEED_ROLLBACK_COUNT, BAD_ROW_140,
               "SELECT n, n * 1.5 AS x, (n % 3 = 0) AS fizz, NULLIF(n % 2, 0) AS odd, "
               "DATE '2026-01-01' + n AS d FROM generate_series(1, 130) AS n"]
    for query in queries:
        theirs = _psql(server, query)
        ours = await run_check("postgres", params(server, query, max_rows=1000))
        assert ours.obs is not None, ours.summary
        data = ours.obs.data
        assert data["row_count"] == len(theirs), query
        for row, printed in zip(data["rows"], theirs, strict=True):
            cells = [row[c] for c in data["columns"]]
            assert len(cells) == len(printed), (query, cells, printed)
            assert all(_same_cell(o, t) for o, t in zip(cells, printed, strict=True)), (cells, printed)
