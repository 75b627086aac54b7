"""Provides the ``postgres`` check type: run one SQL query and keep its rows as evidence.

The connection comes from a DSN, a ``service`` from pg_service.conf or the PG* environment
variables; libpq waits forever without ``connect_timeout``, so both it and ``statement_timeout``
are derived from the time the check has left. A check runs in a read-only transaction that is
rolled back, on a connection whose every transaction starts read-only (so ``COMMIT; DELETE ...``
cannot escape it); only a confirmed action may write (and commits). A query that turns
``default_transaction_read_only`` off again can still write: a read-only database role is the
guard for that.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks._evidence import jsonable, one_line, text_table

DEFAULT_MAX_ROWS = 100
"""Rows kept as evidence when the check does not say (``max_rows``)."""
WHOLE_RESULT_FIELDS = frozenset({"row_count", "columns"})
"""Data fields that describe the whole result even when its rows were cut to ``max_rows``."""
DEFAULT_BASELINE_KEY = "query"
"""The column that identifies a pg_stat_statements row."""
DEFAULT_BASELINE_METRIC = "mean_exec_time"
"""The pg_stat_statements column compared between two baselines."""


DATA = """\
value: the single cell when the result is one row of one column, else row_count
output (regex, contains, not_contains): the rows kept as a text table, then "(N rows)"
data (jmespath, each):
  columns          list of string  column names, in order
  rows             list of object  {column: value} per row, in the query's order: at most
                                   max_rows (default 100); numbers stay numbers, timestamps
                                   become ISO 8601 strings
  row_count        int             rows the query returned, all of them
  rows_truncated   bool            present (true) when rows holds fewer than row_count
  baseline, baseline_key, baseline_metric    with baseline: true, {key: {numeric column: value}}
truncation: a result of more than max_rows rows is an error when the expectation reads the
  rows (jmespath or each over rows, regex, contains, not_contains) or baseline is set; an
  expectation on row_count, columns or the value still judges it. Raise max_rows to see more.
example:
  expect: {each: 'rows[].has_rollback', equals: true}
"""
"""What this type exposes to expectations: ``predeploy explain postgres`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The query and where it goes, one line, secrets masked."""
    shown = check.shown
    where = shown.get("dsn") or (f"service={shown['service']}" if shown.get("service") else "PG* env")
    query = " ".join(str(shown.get("query", "")).split())
    return f"psql {where}: {query}"


async def run(ctx: CheckContext) -> Observation:
    """Connect, run the query in a transaction and report its columns and rows."""
    import psycopg

    params = ctx.check.params
    query = str(params.get("query") or "").strip()
    if not query:
        raise CheckError("postgres check has no query")
    max_rows = int(params.get("max_rows") or DEFAULT_MAX_ROWS)
    try:
        async with asyncio.timeout(ctx.remaining()):
            conn = await _connect(ctx)
            try:
                columns, rows, row_count = await _query(ctx, conn, query, max_rows)
            finally:
                await _close(conn)
    except TimeoutError:
        raise CheckError(f"no answer from PostgreSQL within {ctx.check.timeout:g}s") from None
    except psycopg.errors.QueryCanceled as exc:
        raise CheckError(f"query cancelled: {one_line(exc)}") from None
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        raise CheckError(f"query failed: {one_line(exc)} (only an action item may write)") from None
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise CheckError(f"PostgreSQL connection failed: {one_line(exc)}") from None
    except psycopg.Error as exc:
        raise CheckError(f"query failed: {one_line(exc)}") from None
    if row_count > len(rows):
        _refuse_partial(ctx.check.expect, params, row_count, max_rows)
    return _observation(params, columns, rows, row_count, max_rows)


def _refuse_partial(expect: Mapping[str, Any] | None, params: Mapping[str, Any], row_count: int,
                    max_rows: int) -> None:
    """CheckError when a result cut to ``max_rows`` would be judged (or baselined) as if whole.

    The row count and the column names stay exact however many rows are kept, so an expectation
    on those alone (or on the headline value, which is then the row count) still judges the whole.
    """
    reason = ""
    if params.get("baseline"):
        reason = "a baseline needs every row"
    elif expect:
        if any(key in expect for key in ("regex", "contains", "not_contains")):
            reason = "the expectation reads the output, which holds only the rows kept"
        for key in ("jmespath", "each"):
            if key in expect and not _whole_result_only(str(expect[key])):
                reason = f"the expectation's {key} {expect[key]} would see only the rows kept"
    if reason:
        raise CheckError(f"the query returned {row_count} rows, more than max_rows {max_rows}: "
                         f"{reason} (raise max_rows or narrow the query)")


def _whole_result_only(expression: str) -> bool:
    """Whether a JMESPath expression reads only :data:`WHOLE_RESULT_FIELDS` of the data."""
    import jmespath

    fields: set[str] = set()
    wide = False

    def walk(node: Any) -> None:
        nonlocal wide
        if not isinstance(node, Mapping):
            return
        kind = node.get("type")
        if kind == "field":
            fields.add(str(node.get("value")))
        elif kind in ("current", "identity", "value_projection", "projection", "flatten",
                      "filter_projection", "expref"):
            wide = True
        for child in node.get("children") or ():
            walk(child)

    try:
        walk(jmespath.compile(expression).parsed)
    except jmespath.exceptions.JMESPathError:
        return False
    return not wide and fields <= WHOLE_RESULT_FIELDS


async def _connect(ctx: CheckContext) -> Any:
    """Open the connection with libpq's own connect timeout set (it has none by default)."""
    import psycopg

    params = ctx.check.params
    kwargs: dict[str, Any] = {
        # libpq reads connect_timeout in whole seconds and treats 1 as 2.
        "connect_timeout": max(2, math.ceil(ctx.remaining())),
        "application_name": "predeploy",
    }
    if params.get("service"):
        kwargs["service"] = str(params["service"])
    if params.get("password"):
        kwargs["password"] = str(params["password"])
    dsn = str(params.get("dsn") or "")
    if not ctx.is_action:
        # The read-only transaction alone is escaped by a query of several statements
        # ("COMMIT; DELETE ..."): every transaction of the connection starts read-only too.
        kwargs["options"] = _read_only_options(dsn)
    return await psycopg.AsyncConnection.connect(dsn, **kwargs)


READ_ONLY_OPTION = "-c default_transaction_read_only=on"
"""The libpq ``options`` setting that makes every transaction of a connection read-only."""


def _read_only_options(dsn: str) -> str:
    """The DSN's own ``options`` (if any) with :data:`READ_ONLY_OPTION` added last, so it wins."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = str(conninfo_to_dict(dsn).get("options") or "").strip()
    except ProgrammingError:
        given = ""  # connect reports the malformed DSN itself, with libpq's words
    return f"{given} {READ_ONLY_OPTION}".strip()


async def _query(ctx: CheckContext, conn: Any, query: str,
                 max_rows: int) -> tuple[list[str], list[tuple[Any, ...]], int]:
    """Run the query; returns columns, the first ``max_rows`` rows and the full row count."""
    if not ctx.is_action:
        await conn.set_read_only(True)
    # A little under what is left, so the server cancels first and says why.
    left = ctx.remaining()
    budget_ms = max(50, int(min(left - 0.25, left * 0.95) * 1000))
    async with conn.cursor() as cur:
        await cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(budget_ms),))
        await cur.execute(query)
        if cur.description is None:
            rows: list[tuple[Any, ...]] = []
            columns: list[str] = []
            row_count = max(cur.rowcount, 0)
        else:
            columns = [col.name for col in cur.description]
            rows = list(await cur.fetchmany(max_rows))
            row_count = cur.rowcount if cur.rowcount >= 0 else len(rows)
    if ctx.is_action:
        await conn.commit()
    else:
        await conn.rollback()
    return columns, rows, row_count


async def _close(conn: Any) -> None:
    """Close without letting a dead server's error hide the one that matters."""
    try:
        await conn.close()
    except Exception:
        pass


def _observation(params: Mapping[str, Any], columns: list[str], rows: list[tuple[Any, ...]],
                 row_count: int, max_rows: int) -> Observation:
    records = [{col: jsonable(val) for col, val in zip(columns, row, strict=True)} for row in rows]
    data: dict[str, Any] = {"columns": columns, "rows": records, "row_count": row_count}
    if row_count > len(rows):
        data["rows_truncated"] = True
    output = text_table(columns, [[rec[c] for c in columns] for rec in records])
    if row_count > len(rows):
        output += f"\n({row_count} rows, first {max_rows} shown)"
    else:
        output += f"\n({row_count} row{'' if row_count == 1 else 's'})"
    value: float | str | None
    if len(columns) == 1 and row_count == 1:
        cell = records[0][columns[0]]
        value = _headline(cell)
        label = columns[0]
        summary = f"{columns[0]} = {cell}"
    else:
        value, label = row_count, "rows"
        summary = f"{row_count} row{'' if row_count == 1 else 's'}"
    if params.get("baseline"):
        key = str(params.get("baseline_key") or DEFAULT_BASELINE_KEY)
        metric = str(params.get("baseline_metric") or DEFAULT_BASELINE_METRIC)
        data["baseline"] = _baseline(columns, records, key, metric)
        data["baseline_key"], data["baseline_metric"] = key, metric
        summary += f"; baseline of {len(data['baseline'])} {key} recorded"
    return Observation(output=output, data=data, value=value, label=label, summary=summary)


def _headline(cell: Any) -> float | str | None:
    if cell is None or isinstance(cell, float | str):
        return cell
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, int):
        return cell
    return str(cell)


def _baseline(columns: Sequence[str], records: Sequence[Mapping[str, Any]], key: str,
              metric: str) -> dict[str, dict[str, float]]:
    """{key value: {numeric column: value}}: the first row of a key wins (rows come sorted)."""
    for needed in (key, metric):
        if needed not in columns:
            raise CheckError(f"baseline column {needed!r} is not in the result (columns: "
                             f"{', '.join(columns) or 'none'})")
    out: dict[str, dict[str, float]] = {}
    for rec in records:
        name = str(rec[key])
        if name in out:
            continue
        out[name] = {col: val for col, val in rec.items()
                     if col != key and isinstance(val, int | float) and not isinstance(val, bool)}
    return out
