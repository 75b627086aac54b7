"""Provides the ``aws`` check type: S3 buckets and backups, secret rotation, CloudFront, any call.

boto3 blocks, so every call (client creation included: the first costs ~175 ms) runs on the
engine's thread pool. Sessions and clients are cached per run; botocore's 60 s timeouts and
its retries are replaced by ones derived from the check's timeout.

A thread cannot be cancelled, and a worker still inside botocore keeps the process alive after the
check has timed out, so the timeout must bound the work itself: one attempt (no retries), each
socket wait no longer than the time the check has, and no further page of a listing is asked for
once the check's time is up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from predeploy_tui.core.checklist import plain
from predeploy_tui.core.quantity import format_duration
from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks._evidence import age_seconds, jsonable, one_line

PROBES = ("bucket", "newest_object", "secret_rotation", "cloudfront", "call")
"""What an aws check can look at."""

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired",
            "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId",
            "SignatureDoesNotMatch"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "403",
           "AuthorizationError", "AllAccessDisabled"}
_THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
              "RequestLimitExceeded", "SlowDown", "RequestThrottled",
              "ProvisionedThroughputExceededException"}


DATA = """\
value, by probe: newest_object and secret_rotation: a timestamp (ISO 8601, for max_age);
  cloudfront: the distribution's status; bucket and call: none
output (regex, contains, not_contains): the data below, one "key: value" line each
  (call: the response as indented JSON)
data (jmespath, each), by probe:
  bucket           bucket (string), exists (bool), region (string or null)
  newest_object    bucket, prefix (string), objects (int, all pages counted), key, size (int,
                   bytes), last_modified (ISO 8601), age_seconds (float, unrounded)
  secret_rotation  name, arn, rotation_enabled (bool), last_rotated, created, rotated_at
                   (ISO 8601 or null), age_seconds, age_days (float, unrounded)
  cloudfront       id, domain_name, enabled (bool), status (string), last_modified,
                   in_progress_invalidations (int)
  call             the response without ResponseMetadata, datetimes as ISO 8601
own verdicts: a missing bucket, no objects under the prefix, a distribution not Enabled and
  Deployed fail
timeout: bounds every call and its retries (none are made); a listing stops at the timeout
example:
  expect: {max_age: 26h}                          # newest_object: last night's backup
"""
"""What this type exposes to expectations: ``predeploy explain aws`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """The API call the probe makes, one line."""
    s = check.shown
    probe = s.get("probe") or ("call" if s.get("call") else "bucket")
    where = "".join(f" {k}={s[k]}" for k in ("profile", "region", "endpoint_url") if s.get(k))
    target = {
        "bucket": f"s3.head_bucket {s.get('bucket')}",
        "newest_object": f"s3.list_objects_v2 s3://{s.get('bucket')}/{s.get('prefix') or ''}",
        "secret_rotation": f"secretsmanager.describe_secret {s.get('secret_id')}",
        "cloudfront": f"cloudfront.get_distribution {s.get('distribution_id')}",
        "call": f"{s.get('call')} {json.dumps(jsonable(s.get('params') or {}), sort_keys=True)}",
    }.get(str(probe), str(probe))
    return f"aws {target}{where}"


class ClientCache:
    """One boto3 Session per (profile, region) and one client per service, for one run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str | None, str | None], Any] = {}
        self._clients: dict[tuple[Any, ...], Any] = {}

    def client(self, service: str, profile: str | None, region: str | None,
               endpoint_url: str | None, timeout: float) -> Any:
        """A cached client; runs on a worker thread (creating one reads files and models)."""
        import boto3
        from botocore.config import Config

        # Timeouts are rounded down to half seconds so checks with similar ones share a client.
        wait = max(0.5, math.floor(timeout * 2) / 2)
        key = (service, profile, region, endpoint_url, wait)
        with self._lock:
            if key in self._clients:
                return self._clients[key]
            session = self._sessions.get((profile, region))
            if session is None:
                session = boto3.session.Session(profile_name=profile, region_name=region)
                self._sessions[(profile, region)] = session
            # One attempt: botocore's retries (3 attempts in standard mode) would run on in the
            # worker thread long after the check timed out, keeping the process alive.
            config = Config(connect_timeout=wait, read_timeout=wait,
                            retries={"total_max_attempts": 1, "mode": "standard"})
            client = session.client(service, endpoint_url=endpoint_url, config=config)
            self._clients[key] = client
            return client

    def close(self) -> None:
        """Close every client's connection pool (the run is over)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
            self._sessions.clear()
        for client in clients:
            try:
                client.close()
            except Exception:
                pass


Call = Callable[[str, Callable[[Any], Any]], Awaitable[Any]]
"""Runs ``fn(client_of_service)`` on the engine's thread pool."""


class Deadline:
    """When a check's time is up, for work that runs on in a worker thread (a listing's pages)."""

    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    def check(self, what: str) -> None:
        """CheckError once the time is up, so a thread stops asking AWS for more."""
        if time.monotonic() >= self._at:
            raise CheckError(f"AWS did not finish {what} in time")


async def run(ctx: CheckContext) -> Observation:
    """Run the probe the check names."""
    p = ctx.check.params
    probe = str(p.get("probe") or ("call" if p.get("call") else "bucket"))
    handler = _PROBES.get(probe)
    if handler is None:
        raise CheckError(f"unknown aws probe {probe!r} (expected one of {', '.join(PROBES)})")
    cache: ClientCache = ctx.connections.shared("aws.clients", ClientCache)
    wait = ctx.remaining()
    deadline = Deadline(wait)

    async def call(service: str, fn: Callable[[Any], Any]) -> Any:
        def work() -> Any:
            client = cache.client(service, _opt(p, "profile"), _opt(p, "region"),
                                  _opt(p, "endpoint_url"), wait)
            return fn(client)
        return await ctx.connections.to_thread(work)

    try:
        async with asyncio.timeout(wait):
            return await handler(p, call, deadline)
    except TimeoutError:
        raise CheckError(f"no answer from AWS within {ctx.check.timeout:g}s") from None
    except CheckError:
        raise
    except Exception as exc:
        raise CheckError(explain(exc)) from None


def _opt(p: Mapping[str, Any], name: str) -> str | None:
    value = p.get(name)
    return str(value) if value else None


def _need(p: Mapping[str, Any], name: str, probe: str) -> str:
    value = p.get(name)
    if not value:
        raise CheckError(f"aws probe {probe} needs {name!r}")
    return str(value)


def _error_code(exc: Exception) -> tuple[str, str]:
    """The error code and a one-line message, even when the body was not what botocore expected."""
    response = getattr(exc, "response", None) or {}
    err = response.get("Error", {}) if isinstance(response, Mapping) else {}
    code, message = str(err.get("Code", "")), str(err.get("Message", "") or "")
    if message.lstrip().startswith("<"):
        # An XML or HTML body botocore could not parse (a proxy, or an XML error to a JSON API).
        inner_code = re.search(r"<Code>([^<]+)</Code>", message)
        inner_message = re.search(r"<Message>([^<]*)</Message>", message)
        if inner_code:
            code = inner_code.group(1).strip()
        message = inner_message.group(1) if inner_message else re.sub(r"<[^>]+>", " ", message)
    return code, one_line(message)[:200] if message.strip() else ""


def explain(exc: Exception) -> str:
    """One readable line for a botocore / boto3 failure."""
    import botocore.exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return ("no AWS credentials found (set a profile, AWS_PROFILE or AWS_ACCESS_KEY_ID, "
                "or run aws sso login)")
    if isinstance(exc, bx.ProfileNotFound):
        return f"AWS {one_line(exc)}"
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region set (region: in the check, or AWS_DEFAULT_REGION)"
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return f"AWS credentials expired or not loaded: {one_line(exc)}"
    if isinstance(exc, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return f"AWS endpoint timed out: {one_line(exc)}"
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError):
        return f"cannot reach AWS: {one_line(exc)}"
    if isinstance(exc, bx.ParamValidationError):
        return f"bad parameters for the AWS call: {one_line(exc)}"
    if isinstance(exc, bx.ClientError):
        code, message = _error_code(exc)
        op = getattr(exc, "operation_name", "") or "call"
        detail = f"{code}: {message}" if message else code
        if code in _EXPIRED:
            return f"AWS credentials expired or invalid ({detail}) in {op}"
        if code in _DENIED:
            return f"access denied by AWS ({detail}) in {op}"
        if code in _THROTTLED:
            return f"throttled by AWS ({detail}) in {op}: try again later"
        return f"AWS {op} failed ({detail})"
    if isinstance(exc, bx.BotoCoreError | bx.UnknownServiceError):
        return f"AWS: {one_line(exc)}"
    return f"AWS: {type(exc).__name__}: {one_line(exc)}"


def _not_found(exc: Exception) -> bool:
    import botocore.exceptions as bx

    return isinstance(exc, bx.ClientError) and _error_code(exc)[0] in {
        "404", "NoSuchBucket", "NotFound", "ResourceNotFoundException", "NoSuchDistribution"}


async def _bucket(p: Mapping[str, Any], call: Call, deadline: Deadline) -> Observation:
    bucket = _need(p, "bucket", "bucket")
    try:
        head = await call("s3", lambda c: c.head_bucket(Bucket=bucket))
    except Exception as exc:
        if _not_found(exc):
            return Observation(output=f"s3://{bucket}: not found", data={"bucket": bucket,
                               "exists": False}, status=Status.FAIL,
                               summary=f"bucket {bucket} does not exist")
        raise
    region = (head.get("ResponseMetadata", {}).get("HTTPHeaders", {})
              .get("x-amz-bucket-region") or head.get("BucketRegion"))
    data = {"bucket": bucket, "exists": True, "region": region}
    return Observation(output=f"s3://{bucket}: reachable" + (f" (region {region})" if region else ""),
                       data=data, summary=f"bucket {bucket} reachable")


async def _newest_object(p: Mapping[str, Any], call: Call, deadline: Deadline) -> Observation:
    bucket = _need(p, "bucket", "newest_object")
    prefix = str(p.get("prefix") or "")

    def newest(client: Any) -> tuple[dict[str, Any] | None, int]:
        best: dict[str, Any] | None = None
        count = 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            deadline.check(f"listing s3://{bucket}/{prefix}")
            for obj in page.get("Contents", []):
                count += 1
                if best is None or obj["LastModified"] > best["LastModified"]:
                    best = obj
        return best, count

    try:
        best, count = await call("s3", newest)
    except Exception as exc:
        if _not_found(exc):
            raise CheckError(f"bucket {bucket} does not exist") from None
        raise
    where = f"s3://{bucket}/{prefix}"
    if best is None:
        return Observation(output=f"{where}: no objects", data={"bucket": bucket, "prefix": prefix,
                           "objects": 0}, status=Status.FAIL, summary=f"no objects under {where}")
    modified: dt.datetime = best["LastModified"]
    age = age_seconds(modified)
    data = {"bucket": bucket, "prefix": prefix, "objects": count, "key": best["Key"],
            "size": best.get("Size"), "last_modified": modified.isoformat(),
            "age_seconds": age}
    output = (f"{where}: {count} object{'' if count == 1 else 's'}\n"
              f"newest: {best['Key']} ({best.get('Size')} bytes), last modified "
              f"{modified.isoformat()} ({format_duration(age)} ago)")
    return Observation(output=output, data=data, value=modified.isoformat(),
                       label=f"newest object {best['Key']}",
                       summary=f"newest object {best['Key']} is {format_duration(age)} old")


async def _secret_rotation(p: Mapping[str, Any], call: Call, deadline: Deadline) -> Observation:
    secret_id = _need(p, "secret_id", "secret_rotation")
    desc = await call("secretsmanager", lambda c: c.describe_secret(SecretId=secret_id))
    rotated = desc.get("LastRotatedDate")
    created = desc.get("CreatedDate")
    when: dt.datetime | None = rotated or created
    if when is None:
        raise CheckError(f"secret {secret_id} has neither LastRotatedDate nor CreatedDate")
    age = age_seconds(when)
    source = "last rotated" if rotated else "created (never rotated)"
    data = {"name": desc.get("Name"), "arn": desc.get("ARN"),
            "rotation_enabled": bool(desc.get("RotationEnabled")),
            "last_rotated": rotated.isoformat() if rotated else None,
            "created": created.isoformat() if created else None,
            "rotated_at": when.isoformat(), "age_seconds": age, "age_days": age / 86400}
    output = "\n".join(f"{k}: {v}" for k, v in data.items())
    return Observation(output=output, data=data, value=when.isoformat(),
                       label=f"secret {desc.get('Name') or secret_id} {source}",
                       summary=f"secret {desc.get('Name') or secret_id} {source} "
                               f"{format_duration(age)} ago")


async def _cloudfront(p: Mapping[str, Any], call: Call, deadline: Deadline) -> Observation:
    dist_id = _need(p, "distribution_id", "cloudfront")
    got = await call("cloudfront", lambda c: c.get_distribution(Id=dist_id))
    dist = got.get("Distribution", {})
    enabled = bool(dist.get("DistributionConfig", {}).get("Enabled"))
    state = str(dist.get("Status", ""))
    data = {"id": dist.get("Id", dist_id), "domain_name": dist.get("DomainName"),
            "enabled": enabled, "status": state,
            "last_modified": jsonable(dist.get("LastModifiedTime")),
            "in_progress_invalidations": dist.get("InProgressInvalidationBatches")}
    ok = enabled and state == "Deployed"
    output = "\n".join(f"{k}: {v}" for k, v in data.items())
    summary = (f"distribution {data['id']} {'enabled' if enabled else 'DISABLED'}, status {state}")
    return Observation(output=output, data=data, value=state, label="status",
                       status=None if ok else Status.FAIL, summary=summary)


async def _call(p: Mapping[str, Any], call: Call, deadline: Deadline) -> Observation:
    target = _need(p, "call", "call")
    service, _, operation = target.partition(".")
    if not service or not operation:
        raise CheckError(f"call {target!r} should be service.operation, e.g. ec2.describe_instances")
    params = p.get("params") or {}
    if not isinstance(params, Mapping):
        raise CheckError("params of an aws call must be a mapping")

    def invoke(client: Any) -> Any:
        from botocore import xform_name

        method = getattr(client, xform_name(operation), None)
        if method is None:
            raise CheckError(f"{service} has no operation {operation!r}")
        return method(**plain(params))

    result = await call(service, invoke)
    result = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    data = jsonable(result)
    return Observation(output=json.dumps(data, indent=2, sort_keys=True), data=data,
                       summary=f"{target} answered")



_PROBES: dict[str, Callable[[Mapping[str, Any], Call, Deadline], Awaitable[Observation]]] = {
    "bucket": _bucket, "newest_object": _newest_object, "secret_rotation": _secret_rotation,
    "cloudfront": _cloudfront, "call": _call,
}
