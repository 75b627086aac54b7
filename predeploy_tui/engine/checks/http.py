"""Provides the ``http`` check type: one request through the run's shared httpx client.

The response status is judged first (2xx by default, or the listed codes), then the latency
against ``max_latency``; a JSON body becomes the check's data so ``expect.jmespath`` selects from
it, and the body text is the output. Credentials (``bearer``, ``basic``) go in headers only and
are never written to the output.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from predeploy_tui.core.quantity import QuantityError, parse_duration
from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.capture import marker

if TYPE_CHECKING:
    import httpx

BODY_CAP = 1024 * 1024
"""Bytes of a response body read; the rest is not downloaded."""


DATA = """\
value: latency, float, milliseconds (time to the status line and the whole body, unrounded)
output (regex, contains, not_contains): "METHOD URL -> STATUS REASON in N ms", the
  content-type line, a blank line, then the body as text
data (jmespath, each): the body parsed as JSON (any JSON value), when it is JSON; else none
truncation: the body is read up to 1 MiB (1,048,576 bytes); a longer body makes the item an
  error when the expectation reads it (regex, contains, not_contains, jmespath, each)
own verdicts: a status outside `status:` (default 2xx) fails; latency over `max_latency` fails
example:
  expect: {jmespath: replicas.ready, ge: 3}
"""
"""What this type exposes to expectations: ``predeploy explain http`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """``GET https://api.example.com/health`` (secrets masked)."""
    shown = check.shown
    extra = " (bearer token)" if shown.get("bearer") else " (basic auth)" if shown.get("basic") else ""
    return f"{str(shown.get('method') or 'GET').upper()} {shown.get('url', '')}{extra}"


async def run(ctx: CheckContext) -> Observation:
    """Send the request, read the body (capped) and report status, latency and body."""
    import httpx

    params = ctx.check.params
    url = str(params.get("url") or "")
    if not url:
        raise CheckError("an http check needs url: URL")
    method = str(params.get("method") or "GET").upper()
    client = await _client(ctx)
    request, auth = _request(client, method, url, params, ctx.remaining())
    shown_url = str(ctx.check.shown.get("url") or url)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(ctx.remaining()):
            response = await client.send(request, stream=True, auth=auth,
                                         follow_redirects=bool(params.get("follow_redirects", False)))
            try:
                body, truncated = await _read(response)
            finally:
                await response.aclose()
    except TimeoutError:
        raise CheckError(f"no response from {shown_url} within {ctx.check.timeout:g}s") from None
    except httpx.ConnectError as exc:
        raise CheckError(f"cannot connect to {shown_url}: {_connect_reason(exc)}") from None
    except httpx.TimeoutException:
        raise CheckError(f"no response from {shown_url} within {ctx.check.timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise CheckError(f"{method} {shown_url} failed: {_one_line(exc)}") from None
    latency_ms = (loop.time() - started) * 1000
    return _observation(ctx, method, shown_url, response, body, truncated, latency_ms)


async def _client(ctx: CheckContext) -> httpx.AsyncClient:
    """The run's client for this check's TLS settings (one per verify / ca_file pair)."""
    params = ctx.check.params
    verify = params.get("verify", True) is not False
    ca_file = str(params["ca_file"]) if params.get("ca_file") else None
    if ca_file and not Path(ca_file).is_absolute():
        ca_file = str(ctx.folder / ca_file)
    clients: HTTPClients = ctx.connections.shared("httpx", HTTPClients)
    return await clients.get(ctx, verify, ca_file)


class HTTPClients:
    """The run's httpx clients, one per TLS setting; closed with the run's connections."""

    def __init__(self) -> None:
        self._clients: dict[tuple[bool, str | None], httpx.AsyncClient] = {}
        self._lock = asyncio.Lock()

    async def get(self, ctx: CheckContext, verify: bool, ca_file: str | None) -> httpx.AsyncClient:
        """The client for (verify, ca_file), made on first use."""
        import httpx

        async with self._lock:
            client = self._clients.get((verify, ca_file))
            if client is None:
                tls: ssl.SSLContext | bool = False
                if verify:
                    # Building the context reads the CA bundle: off the loop, once per run and setting.
                    tls = await ctx.connections.to_thread(_tls_context, ca_file)
                client = httpx.AsyncClient(
                    verify=tls, timeout=httpx.Timeout(60.0), follow_redirects=False, trust_env=False,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))
                self._clients[(verify, ca_file)] = client
            return client

    async def aclose(self) -> None:
        """Close every client."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise CheckError(f"cannot load the CA bundle {ca_file}: {exc}") from None


def _request(client: httpx.AsyncClient, method: str, url: str, params: Mapping[str, Any],
             wait: float) -> tuple[httpx.Request, httpx.Auth | None]:
    import httpx

    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    if params.get("bearer"):
        headers["Authorization"] = f"Bearer {params['bearer']}"
    auth = None
    basic = params.get("basic")
    if isinstance(basic, Mapping):
        auth = httpx.BasicAuth(str(basic.get("user", "")), str(basic.get("password", "")))
    content: str | None = None
    if params.get("json") is not None:
        content = json.dumps(params["json"])
        headers.setdefault("Content-Type", "application/json")
    elif params.get("body") is not None:
        content = str(params["body"])
    try:
        request = client.build_request(method, url, headers=headers, content=content,
                                       timeout=httpx.Timeout(wait))
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
        raise CheckError(f"bad url: {_one_line(exc)}") from None
    return request, auth


async def _read(response: httpx.Response) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= BODY_CAP:
            return b"".join(chunks)[:BODY_CAP], True
    return b"".join(chunks), False


def _observation(ctx: CheckContext, method: str, url: str, response: httpx.Response, body: bytes,
                 truncated: bool, latency_ms: float) -> Observation:
    params = ctx.check.params
    text = body.decode(response.encoding or "utf-8", errors="replace")
    data: Any = None
    content_type = response.headers.get("content-type", "")
    if not truncated and ("json" in content_type or text.lstrip()[:1] in ("{", "[")):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    head = f"{method} {url} -> {response.status_code} {response.reason_phrase} in {latency_ms:.0f} ms"
    lines = [head]
    if content_type:
        lines.append(f"content-type: {content_type}")
    output = "\n".join(lines) + "\n\n" + text + (marker(None) if truncated else "")
    status: Status | None = None
    summary = f"{response.status_code} {response.reason_phrase} in {latency_ms:.0f} ms"
    wanted = params.get("status")
    codes = [int(c) for c in (wanted if isinstance(wanted, list | tuple) else [wanted])] \
        if wanted is not None else None
    ok = response.status_code in codes if codes else 200 <= response.status_code < 300
    if not ok:
        expected = " or ".join(str(c) for c in codes) if codes else "2xx"
        status = Status.FAIL
        summary = f"HTTP {response.status_code} {response.reason_phrase} (expected {expected})"
    limit = _seconds(params.get("max_latency"))
    if status is None and limit is not None and latency_ms > limit * 1000:
        status = Status.FAIL
        # Whole milliseconds, unless that would read "200 ms > 200 ms".
        places = 0 if f"{latency_ms:.0f}" != f"{limit * 1000:.0f}" else 3
        summary = (f"latency {latency_ms:.{places}f} ms > {limit * 1000:g} ms "
                   f"({response.status_code})")
    return Observation(output=output, data=data, value=latency_ms, label="latency",
                       unit="ms", status=status, summary=summary, complete=not truncated)


def _seconds(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_duration(raw)
    except QuantityError:
        raise CheckError(f"not a duration: {raw!r}") from None


def _connect_reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        # httpx wraps the socket error ("All connection attempts failed"): name the real cause.
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted ({cause.verify_message})"
        cause = cause.__cause__ or cause.__context__
    text = _one_line(exc)
    lowered = text.lower()
    if "certificate verify failed" in lowered:
        detail = text.split("certificate verify failed:", 1)[-1].strip(" )(")
        return f"TLS certificate not trusted ({detail.split('(')[0].strip() or 'verify failed'})"
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "host name does not resolve"
    return text


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
