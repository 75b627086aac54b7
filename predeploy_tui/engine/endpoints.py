"""Provides where a plan's checks would connect: SSH routes, Kubernetes API servers, AWS endpoints.

Each is resolved the way the run resolves it, without connecting: SSH targets through the same
ssh_config resolution as ``engine.ssh`` (checklist fields first), the Kubernetes API server through
the client's own kubeconfig loader, the AWS endpoint through botocore (``endpoint_url``, then
``AWS_ENDPOINT_URL_<SERVICE>`` / ``AWS_ENDPOINT_URL``, then the region's default). Credentials in
URLs are masked before anything is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from predeploy_tui.core.checklist import Host
from predeploy_tui.engine.base import CheckError
from predeploy_tui.engine.redact import Redactor

_AWS_SERVICES = {"bucket": "s3", "newest_object": "s3", "secret_rotation": "secretsmanager",
                 "cloudfront": "cloudfront"}


def ssh_routes(hosts: Mapping[str, Host], names: Iterable[str]) -> list[str]:
    """One line per SSH target: ``name  user@address:port  via user@hop:port, ...``."""
    try:
        from predeploy_tui.engine import sshtarget
    except ImportError as exc:
        return [f"{name}  (SSH is not available here: {exc})" for name in names]
    resolver = sshtarget.Resolver(hosts)
    lines: list[str] = []
    for name in names:
        try:
            route = resolver.route(name)
        except CheckError as exc:
            lines.append(f"{name}  cannot resolve: {exc}")
            continue
        *hops, target = route
        via = f"  via {', '.join(_endpoint(h) for h in hops)}" if hops else ""
        lines.append(f"{name}  {_endpoint(target)}{via}")
    return lines


def _endpoint(target: Any) -> str:
    return f"{target.user}@{target.address}:{target.port}"


def kubernetes_api_server(kubeconfig: str | None, context: str | None) -> str:
    """The API server URL the kubeconfig (and context) points at, as the check's client loads it."""
    try:
        from kubernetes import client, config
    except ImportError as exc:
        return f"(the kubernetes client is not installed: {exc})"
    cfg = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]  # untyped SDK
            config_file=kubeconfig, context=context, persist_config=False, client_configuration=cfg)
    except Exception as exc:  # the loader raises ConfigException, OSError, yaml and key errors
        return f"(kubeconfig unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return Redactor().redact(str(cfg.host))


def aws_service(shown: Mapping[str, Any]) -> str:
    """The AWS service a check's probe calls."""
    probe = str(shown.get("probe") or ("call" if shown.get("call") else "bucket"))
    if probe == "call":
        return str(shown.get("call") or "").split(".", 1)[0] or "?"
    return _AWS_SERVICES.get(probe, probe)


def aws_endpoint(service: str, profile: str | None, region: str | None,
                 endpoint_url: str | None) -> str:
    """The endpoint botocore would send ``service`` calls to, and the region."""
    try:
        import boto3
        import botocore.exceptions
    except ImportError as exc:
        return f"(boto3 is not installed: {exc})"
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        made = session.client(service, endpoint_url=endpoint_url)
    except botocore.exceptions.NoRegionError:
        return "(no AWS region set: region: in the check, or AWS_DEFAULT_REGION)"
    except (botocore.exceptions.BotoCoreError, ValueError) as exc:
        return f"({exc})"
    where = f"{Redactor().redact(str(made.meta.endpoint_url))} (region {made.meta.region_name})"
    return where


def endpoint_lines(planned: Sequence[Any], hosts: Mapping[str, Host]) -> list[str]:
    """The plan's footer: every SSH target with its jump hops, Kubernetes API server, AWS endpoint."""
    lines: list[str] = []
    unresolved = {p.host: p.unresolved for p in planned if p.host and p.unresolved}
    names = list(dict.fromkeys(p.host for p in planned if p.host and p.host not in unresolved))
    if names or unresolved:
        lines.append("SSH targets:")
        lines += [f"  {line}" for line in ssh_routes(hosts, names)]
        lines += [f"  {name}  cannot resolve: {why}" for name, why in unresolved.items()]
    kube = list(dict.fromkeys((_opt(p.shown, "kubeconfig"), _opt(p.shown, "context"))
                              for p in planned if p.type == "kubernetes"))
    if kube:
        lines.append("Kubernetes API servers:")
        for kubeconfig, context in kube:
            source = f"kubeconfig {kubeconfig or 'default'}, context {context or 'current'}"
            lines.append(f"  {kubernetes_api_server(kubeconfig, context)}  ({source})")
    aws = list(dict.fromkeys((aws_service(p.shown), _opt(p.shown, "profile"), _opt(p.shown, "region"),
                              _opt(p.shown, "endpoint_url")) for p in planned if p.type == "aws"))
    if aws:
        lines.append("AWS endpoints:")
        for service, profile, region, endpoint_url in aws:
            lines.append(f"  {service}: {aws_endpoint(service, profile, region, endpoint_url)}")
    return lines


def _opt(shown: Mapping[str, Any], key: str) -> str | None:
    value = shown.get(key)
    return str(value) if value else None
