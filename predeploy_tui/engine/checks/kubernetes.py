"""Provides the ``kubernetes`` check type: node capacity against metrics.k8s.io usage, or any list.

The kubernetes client blocks and has no timeout by default, so each call runs on the engine's
thread pool with ``_request_timeout`` set and urllib3's retries off (they would multiply the wait).
Each check builds its own ApiClient from its kubeconfig and context: the client library's global
default configuration is never touched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from predeploy_tui.core.quantity import format_bytes
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks._evidence import one_line
from predeploy_tui.engine.checks._kubequantity import parse_memory, parse_quantity

NODES_PATH = "/api/v1/nodes"
"""Where nodes and their allocatable capacity are listed."""
METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/nodes"
"""Where metrics-server publishes node usage."""
GPU_RESOURCE = "nvidia.com/gpu"
"""The extended resource the NVIDIA device plugin advertises."""


DATA = """\
value: probe nodes: the lowest cpu_free_percent over the nodes with metrics (float, %);
  probe list: the number of items (int)
output (regex, contains, not_contains): nodes: a table (CPU figures rounded there only);
  list: the response as indented JSON
data (jmespath, each), probe nodes: {nodes: [...]}, one object per node:
  name                       string
  cpu_allocatable_cores      float   cores, exact
  cpu_used_cores             float   cores from metrics.k8s.io, exact; null without metrics
  cpu_free_percent           float   100 x (allocatable - used) / allocatable, unrounded
                                     (29.96 is 29.96); null without metrics
  memory_allocatable_bytes   int     bytes
  memory_used_bytes          int     bytes; null without metrics
  memory_free_bytes          int     bytes, allocatable - used (0 when over); null without
  gpus                       int     allocatable nvidia.com/gpu
data, probe list: the API's response as it came (a List object: items, metadata, ...)
example:
  expect: {each: 'nodes[].cpu_free_percent', gt: 30}
"""
"""What this type exposes to expectations: ``predeploy explain kubernetes`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The API paths the probe reads, one line."""
    s = check.shown
    where = "".join(f" {k}={s[k]}" for k in ("kubeconfig", "context") if s.get(k))
    if (s.get("probe") or "nodes") == "nodes":
        return f"kubernetes GET {NODES_PATH} + {METRICS_PATH}{where}"
    selector = f"?labelSelector={s['label_selector']}" if s.get("label_selector") else ""
    return f"kubernetes GET {s.get('resource')}{selector}{where}"


async def run(ctx: CheckContext) -> Observation:
    """Read the nodes (and their usage) or list a resource."""
    p = ctx.check.params
    probe = str(p.get("probe") or "nodes")
    if probe not in ("nodes", "list"):
        raise CheckError(f"unknown kubernetes probe {probe!r} (expected nodes or list)")
    wait = ctx.remaining()
    kubeconfig = str(p["kubeconfig"]) if p.get("kubeconfig") else None
    context = str(p["context"]) if p.get("context") else None
    selector = str(p["label_selector"]) if p.get("label_selector") else None

    def work() -> Observation:
        api = _api_client(kubeconfig, context)
        try:
            if probe == "nodes":
                nodes = _get(api, NODES_PATH, wait, selector, "nodes")
                metrics = _get(api, METRICS_PATH, wait, selector, "node metrics")
                return nodes_observation(nodes, metrics)
            resource = str(p.get("resource") or "")
            if not resource.startswith("/"):
                raise CheckError("kubernetes list needs resource: an API path such as "
                                 "/api/v1/namespaces/default/pods")
            return _list_observation(resource, _get(api, resource, wait, selector, resource))
        finally:
            api.close()

    try:
        async with asyncio.timeout(wait):
            result: Observation = await ctx.connections.to_thread(work)
            return result
    except TimeoutError:
        raise CheckError(f"no answer from the Kubernetes API within {ctx.check.timeout:g}s") from None


def _api_client(kubeconfig: str | None, context: str | None) -> Any:
    from kubernetes import client, config

    cfg = client.Configuration()
    # urllib3 retries connect and read errors three times by default: four times the wait.
    cfg.retries = False
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call]  # untyped SDK
            config_file=kubeconfig, context=context, persist_config=False, client_configuration=cfg)
    except config.ConfigException as exc:
        raise CheckError(f"kubeconfig: {one_line(exc)}") from None
    except OSError as exc:
        raise CheckError(f"kubeconfig: {one_line(exc)}") from None


def _get(api: Any, path: str, wait: float, selector: str | None, what: str) -> Any:
    """GET an API path as JSON through the client's own auth and TLS settings."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    query = [("labelSelector", selector)] if selector else []
    host = api.configuration.host
    try:
        request = api.param_serialize("GET", path, query_params=query,
                                      header_params={"Accept": "application/json"},
                                      auth_settings=["BearerToken"])
        response = api.call_api(*request, _request_timeout=(wait, wait))
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return json.loads(response.data or b"null")
    except ApiException as exc:
        raise CheckError(_api_error(exc, what, host)) from None
    except urllib3.exceptions.NewConnectionError as exc:
        # Checked before TimeoutError: urllib3 makes a refused connection a kind of timeout.
        raise CheckError(f"cannot reach the Kubernetes API at {host}: {_reason(exc)}") from None
    except urllib3.exceptions.TimeoutError:
        raise CheckError(f"Kubernetes API at {host} did not answer within {wait:.3g}s") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise CheckError(f"cannot reach the Kubernetes API at {host}: {one_line(reason)}") from None
    except ValueError as exc:
        raise CheckError(f"Kubernetes API at {host} sent {what} that is not JSON: {exc}") from None


def _reason(exc: Exception) -> str:
    """The socket's complaint without urllib3's object reprs around it."""
    text = one_line(exc)
    marker = text.rfind("] ")
    return text[marker + 2:] if marker >= 0 and "[Errno" in text else text


def _api_error(exc: Any, what: str, host: str) -> str:
    status = int(getattr(exc, "status", 0) or 0)
    message = ""
    try:
        body = json.loads(getattr(exc, "body", None) or "{}")
        message = str(body.get("message", "")) if isinstance(body, Mapping) else ""
    except ValueError:
        message = one_line(str(getattr(exc, "body", "") or ""))[:200]
    reason = str(getattr(exc, "reason", "") or "")
    head = f"{status} {reason}".strip() if status else one_line(reason)
    detail = f": {message}" if message else ""
    if status == 0:
        return f"cannot reach the Kubernetes API at {host}: {one_line(reason)}"
    if status == 404 and what == "node metrics":
        return f"metrics API not available ({head} for metrics.k8s.io): is metrics-server installed?"
    if status == 401:
        return f"Kubernetes API refused the credentials ({head}){detail}"
    if status == 403:
        return f"access denied reading {what} ({head}){detail}"
    return f"Kubernetes API error reading {what} ({head}){detail}"


def nodes_observation(nodes: Any, metrics: Any) -> Observation:
    """Per node: allocatable CPU, memory and GPUs against current usage.

    The data keeps every figure exactly as measured (a node 29.96% free is not "30%"): rounding
    is for the table and the summary only, never for what an expectation compares.
    """
    usage = {str(m.get("metadata", {}).get("name")): m.get("usage", {})
             for m in (metrics or {}).get("items") or []}
    rows: list[dict[str, Any]] = []
    for node in (nodes or {}).get("items") or []:
        name = str(node.get("metadata", {}).get("name"))
        alloc = node.get("status", {}).get("allocatable", {}) or {}
        try:
            cpu = parse_quantity(alloc.get("cpu", 0))
            memory = parse_memory(alloc.get("memory", 0))
            gpus = int(parse_quantity(alloc.get(GPU_RESOURCE, 0)))
            used = usage.get(name)
            cpu_used = parse_quantity(used["cpu"]) if used and "cpu" in used else None
            mem_used = parse_memory(used["memory"]) if used and "memory" in used else None
        except ValueError as exc:
            raise CheckError(f"node {name}: {exc}") from None
        rows.append({
            "name": name,
            "cpu_allocatable_cores": float(cpu),
            "cpu_used_cores": None if cpu_used is None else float(cpu_used),
            # In Decimal, so a node exactly 30% free is 30.0, not 29.999999999999996.
            "cpu_free_percent": None if cpu_used is None or cpu <= 0
            else float(max(Decimal(0), (cpu - cpu_used) * 100 / cpu)),
            "memory_allocatable_bytes": memory,
            "memory_used_bytes": mem_used,
            "memory_free_bytes": None if mem_used is None else max(0, memory - mem_used),
            "gpus": gpus,
        })
    if not rows:
        raise CheckError("the Kubernetes API listed no nodes")
    lines = [f"{'NODE':<24} {'CPU(alloc)':>10} {'CPU(used)':>10} {'CPU free':>9} "
             f"{'MEM(alloc)':>11} {'MEM free':>11} {'GPUs':>4}"]
    for r in rows:
        lines.append(f"{r['name']:<24} {r['cpu_allocatable_cores']:>10.4g} "
                     f"{_or_dash(r['cpu_used_cores'], '', 3):>10} "
                     f"{_or_dash(r['cpu_free_percent'], '%', 1):>9} "
                     f"{format_bytes(r['memory_allocatable_bytes']):>11} "
                     f"{_bytes_or_dash(r['memory_free_bytes']):>11} {r['gpus']:>4}")
    missing = [r["name"] for r in rows if r["cpu_used_cores"] is None]
    if missing:
        lines.append(f"no metrics for: {', '.join(missing)}")
    measured = [r for r in rows if r["cpu_free_percent"] is not None]
    summary = f"{len(rows)} node{'' if len(rows) == 1 else 's'}"
    value: float | None = None
    if measured:
        low_cpu = min(measured, key=lambda r: r["cpu_free_percent"])
        low_mem = min(measured, key=lambda r: r["memory_free_bytes"])
        value = low_cpu["cpu_free_percent"]
        summary += (f"; lowest CPU free {_or_dash(low_cpu['cpu_free_percent'], '%', 1)} "
                    f"({low_cpu['name']}), "
                    f"lowest memory free {format_bytes(low_mem['memory_free_bytes'])} "
                    f"({low_mem['name']})")
    gpus = sum(r["gpus"] for r in rows)
    if gpus:
        summary += f"; {gpus} allocatable GPU{'' if gpus == 1 else 's'}"
    return Observation(output="\n".join(lines), data={"nodes": rows}, value=value,
                       label="lowest node CPU free", unit="%", summary=summary)


def _or_dash(value: float | None, unit: str = "", places: int = 3) -> str:
    """A figure rounded for the table and summary only (the data keeps it exact)."""
    return "-" if value is None else f"{round(value, places):g}{unit}"


def _bytes_or_dash(value: float | None) -> str:
    return "-" if value is None else format_bytes(value)


def _list_observation(resource: str, body: Any) -> Observation:
    items = body.get("items") if isinstance(body, Mapping) else None
    count = len(items) if isinstance(items, list) else None
    summary = f"{resource}: {count} item{'' if count == 1 else 's'}" if count is not None \
        else f"{resource} answered"
    return Observation(output=json.dumps(body, indent=2, sort_keys=True), data=body,
                       value=count, label="items", summary=summary)
