"""Provides the ``redis`` check type: PING, then the INFO sections asked for, numbers as numbers.

INFO replication is read by default (the seed's ``redis-cli info replication``); the data gains
the replication lag a deployer asks about, defined from replication offsets on both sides:

- ``lag_bytes``: the primary's offset minus the replica's (on a primary, the largest over its
  replicas; on a replica, its primary is asked for its offset, after the replica's was read);
- ``lag_seconds``: seconds since the replica last acknowledged an offset to the primary (Redis's
  own replica ``lag``: a healthy replica acknowledges every second, idle or not);
- ``link_idle_seconds`` (replica only): ``master_last_io_seconds_ago`` under its own name. It is
  not lag: on an idle, fully synced replica it counts up to the primary's ping period (10 s).

A replica whose primary cannot be read has no lag figures (``lag_error`` says why); an
expectation that reads them is then an error, not a judgement on missing numbers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks._evidence import jsonable, one_line

DEFAULT_SECTIONS = ("replication",)
"""INFO sections read when the check does not list any."""


DATA = """\
value: connected_slaves of INFO replication (int), when replication is read
output (regex, contains, not_contains): "PING -> PONG", then each INFO section as redis-cli
  prints it ("# Replication", "key:value" lines)
data (jmespath, each):
  ping           bool    the PING answer
  SECTION        object  one per INFO section read (info:, default [replication]), keys as
                         Redis names them, numbers as numbers; slaveN entries are objects
  replication.lag_bytes    int    primary's master_repl_offset minus the replica's offset; on a
                                  primary the largest over its replicas, on a replica read from
                                  its primary (master_host:master_port, same credentials)
  replication.lag_seconds  int    seconds since the replica last acknowledged an offset (Redis's
                                  replica lag; about 1 s when healthy); largest on a primary
  replication.replicas     list   on a primary: the slaveN objects, each with its lag_bytes
  replication.link_idle_seconds  int  on a replica: master_last_io_seconds_ago, the time since
                                  the primary last sent anything (up to 10 s when idle): not lag
  replication.primary_repl_offset  int  on a replica: its primary's offset, as read
  replication.lag_error    string on a replica whose primary could not be read: why; an
                                  expectation on lag_* is then an error
example:
  expect: {jmespath: replication.lag_bytes, le: 1048576}
"""
"""What this type exposes to expectations: ``predeploy explain redis`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The server and the commands sent, one line, secrets masked."""
    shown = check.shown
    where = shown.get("url") or f"{shown.get('address') or 'localhost'}:{shown.get('port') or 6379}"
    sections = _sections(shown)
    return f"redis {where}: PING" + "".join(f"; INFO {s}" for s in sections)


def _sections(params: Mapping[str, Any]) -> list[str]:
    raw = params.get("info", DEFAULT_SECTIONS)
    if raw is None:
        return list(DEFAULT_SECTIONS)
    return [str(raw)] if isinstance(raw, str) else [str(s) for s in raw]


async def run(ctx: CheckContext) -> Observation:
    """Ping the server and read its INFO sections."""
    import redis.exceptions as rx

    client = _client(ctx)
    kw = client.connection_pool.connection_kwargs
    where = f"{kw.get('host', 'localhost')}:{kw.get('port', 6379)}"
    sections = _sections(ctx.check.params)
    data: dict[str, Any] = {}
    try:
        async with asyncio.timeout(ctx.remaining()):
            data["ping"] = bool(await client.ping())
            for section in sections:
                data[section] = {str(k): jsonable(v) for k, v in (await client.info(section)).items()}
    except TimeoutError:
        raise CheckError(f"no answer from Redis at {where} within {ctx.check.timeout:g}s") from None
    except rx.AuthenticationError as exc:
        if not ctx.check.params.get("password"):
            raise CheckError(f"Redis at {where} requires a password (set password: in the check, "
                             "usually ${env:NAME})") from None
        raise CheckError(f"Redis authentication failed at {where}: {one_line(exc)[:200]}") from None
    except rx.TimeoutError as exc:
        raise CheckError(f"Redis at {where} timed out: {one_line(exc)}") from None
    except rx.ConnectionError as exc:
        raise CheckError(f"cannot connect to Redis at {where}: {one_line(exc)}") from None
    except rx.RedisError as exc:
        raise CheckError(f"Redis at {where} refused: {one_line(exc)}") from None
    finally:
        await _close(client)
    replication = data.get("replication")
    if isinstance(replication, dict):
        _add_lag(replication)
        if replication.get("role") == "slave":
            await _read_primary(ctx, replication, int(kw.get("port", 6379)))
    return _observation(data)


async def _close(client: Any) -> None:
    try:
        await client.aclose()
    except Exception:
        pass


async def _read_primary(ctx: CheckContext, replication: dict[str, Any], own_port: int) -> None:
    """Add the primary's view of this replica: its offset and the replica's acknowledgement age."""
    import redis.exceptions as rx

    host, port = replication.get("master_host"), replication.get("master_port")
    reason = ""
    if not host or not isinstance(port, int):
        reason = "the replica names no primary"
    else:
        client = _client(ctx, str(host), port)
        try:
            async with asyncio.timeout(ctx.remaining()):
                primary = {str(k): jsonable(v) for k, v in (await client.info("replication")).items()}
        except TimeoutError:
            reason = f"no answer from the primary {host}:{port}"
        except rx.RedisError as exc:
            reason = f"the primary {host}:{port}: {one_line(exc)[:200]}"
        finally:
            await _close(client)
    if reason:
        replication["lag_error"] = reason
        expect = ctx.check.expect
        if expect and "lag_" in json.dumps(dict(expect), default=str):
            raise CheckError(f"replication lag not measured: {reason}")
        return
    _add_replica_lag(replication, primary, own_port)


def _add_replica_lag(replication: dict[str, Any], primary: Mapping[str, Any], own_port: int) -> None:
    """lag_bytes / lag_seconds of a replica from its primary's INFO replication."""
    offset, own = primary.get("master_repl_offset"), replication.get("slave_repl_offset")
    if isinstance(offset, int) and isinstance(own, int):
        replication["primary_repl_offset"] = offset
        replication["lag_bytes"] = offset - own
    mine = [v for k, v in primary.items() if k.startswith("slave") and k[5:].isdigit()
            and isinstance(v, Mapping) and v.get("port") == own_port]
    if len(mine) == 1 and isinstance(mine[0].get("lag"), int | float):
        replication["lag_seconds"] = mine[0]["lag"]


def _client(ctx: CheckContext, host: str | None = None, port: int | None = None) -> Any:
    """A client whose every socket wait is bounded and which does not retry behind our back.

    With ``host`` and ``port`` (a replica's primary), the same credentials and TLS settings go there.
    """
    import redis.asyncio as aredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    params = ctx.check.params
    wait = ctx.remaining()
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": wait, "socket_timeout": wait,
        "retry": Retry(NoBackoff(), 0), "decode_responses": True,
        "client_name": "predeploy",
    }
    if params.get("username"):
        kwargs["username"] = str(params["username"])
    if params.get("password"):
        kwargs["password"] = str(params["password"])
    if params.get("ca_file"):
        kwargs["ssl_ca_certs"] = str(params["ca_file"])
    if params.get("url"):
        if host is not None:
            kwargs.update(host=host, port=port)
        return aredis.Redis.from_url(str(params["url"]), **kwargs)
    if host is not None:
        return aredis.Redis(host=host, port=port or 6379, ssl=bool(params.get("tls")), **kwargs)
    if params.get("tls"):
        kwargs["ssl"] = True
    return aredis.Redis(host=str(params.get("address") or "localhost"),
                        port=int(params.get("port") or 6379), **kwargs)


def _observation(data: dict[str, Any]) -> Observation:
    lines = [f"PING -> {'PONG' if data.get('ping') else data.get('ping')}"]
    for section, fields in data.items():
        if isinstance(fields, dict):
            lines.append(f"\n# {section.capitalize()}")
            lines.extend(f"{k}:{_info_text(v)}" for k, v in fields.items())
    summary = "PONG"
    value: float | None = None
    label = ""
    replication = data.get("replication")
    if isinstance(replication, dict):
        role = replication.get("role", "?")
        summary += f"; role {role}"
        if role == "master":
            value = replication.get("connected_slaves", 0)
            label = "connected replicas"
            summary += f", {value} connected replica{'' if value == 1 else 's'}"
            if replication.get("lag_bytes") is not None:
                summary += f", lag {replication['lag_bytes']} bytes"
        else:
            summary += f", master link {replication.get('master_link_status', '?')}"
            if replication.get("lag_bytes") is not None:
                summary += f", lag {replication['lag_bytes']} bytes"
            elif replication.get("lag_error"):
                summary += f", lag not measured ({replication['lag_error']})"
            value = replication.get("connected_slaves", 0)
            label = "connected replicas"
    return Observation(output="\n".join(lines), data=data, value=value, label=label, summary=summary)


def _info_text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _add_lag(replication: dict[str, Any]) -> None:
    """Lag in bytes and seconds, from the primary's or the replica's point of view."""
    if replication.get("role") == "master":
        offset = replication.get("master_repl_offset")
        replicas = [v for k, v in sorted(replication.items())
                    if k.startswith("slave") and k[5:].isdigit() and isinstance(v, dict)]
        for rep in replicas:
            if isinstance(offset, int) and isinstance(rep.get("offset"), int):
                rep["lag_bytes"] = offset - rep["offset"]
        byte_lags = [r["lag_bytes"] for r in replicas if "lag_bytes" in r]
        second_lags = [r["lag"] for r in replicas if isinstance(r.get("lag"), int | float)]
        replication["replicas"] = replicas
        replication["lag_bytes"] = max(byte_lags) if byte_lags else None
        replication["lag_seconds"] = max(second_lags) if second_lags else None
    else:
        io_ago = replication.get("master_last_io_seconds_ago")
        replication["link_idle_seconds"] = io_ago if isinstance(io_ago, int | float) and io_ago >= 0 \
            else None
        # Filled from the primary's offsets by _read_primary.
        replication["lag_bytes"] = None
        replication["lag_seconds"] = None
