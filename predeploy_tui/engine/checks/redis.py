"""Provides the ``redis`` check type: PING, then the INFO sections asked for, numbers as numbers.

INFO replication is read by default (the seed's ``redis-cli info replication``); the data gains
the replication lag a deployer asks about: bytes behind on a primary (its offset minus each
replica's), seconds since the last I/O with the primary on a replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks._evidence import jsonable, one_line

DEFAULT_SECTIONS = ("replication",)
"""INFO sections read when the check does not list any."""


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
        try:
            await client.aclose()
        except Exception:
            pass
    return _observation(data)


def _client(ctx: CheckContext) -> Any:
    """A client whose every socket wait is bounded and which does not retry behind our back."""
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
        return aredis.Redis.from_url(str(params["url"]), **kwargs)
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
        _add_lag(replication)
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
            if replication.get("lag_seconds") is not None:
                summary += f", last I/O {replication['lag_seconds']} s ago"
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
        replication["lag_seconds"] = io_ago if isinstance(io_ago, int | float) and io_ago >= 0 else None
        replication["lag_bytes"] = None
