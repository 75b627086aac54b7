"""Provides the ``tls`` check type: the certificate of any TLS port, its dates, names and chain.

The headline value is the number of whole days until the certificate expires (negative once it
has), so ``expect: {ge: 30}`` reads "certificate expires in 12 days (< 30)". With ``verify`` on
(the default) an untrusted chain or a name mismatch fails with the reason, and the dates are still
reported: the certificate is then fetched a second time without verification to read them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.expect import show

DATA = """\
value: days_left (float, days, fractions kept: -0.375 is expired 9 hours ago)
output (regex, contains, not_contains): the data below, one "key: value" line each
data (jmespath, each):
  subject          string          the certificate's subject, RFC 4514
  issuer           string          its issuer, RFC 4514
  sans             list of string  DNS and IP names (the common name when there are none)
  not_before       string          ISO 8601, UTC
  not_after        string          ISO 8601, UTC
  days_left        float           days until not_after, negative once expired
  hostname         string          the name checked (server_name, default address)
  hostname_match   bool            whether the certificate is valid for hostname
  chain_verified   bool            verified against the CA bundle, and it held
  verified         bool            whether verification was asked for (verify)
  serial           string          serial number, hex
  tls_version      string          the negotiated protocol, e.g. TLSv1.3
own verdicts: a chain or name that does not verify fails
example:
  expect: {ge: 30d}
"""
"""What this type exposes to expectations: ``predeploy explain tls`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """``TLS 127.0.0.1:443 (SNI api.example.com)``."""
    shown = check.shown
    sni = shown.get("server_name")
    return f"TLS {shown.get('address', '')}:{shown.get('port') or 443}" + (f" (SNI {sni})" if sni else "")


async def run(ctx: CheckContext) -> Observation:
    """Connect, read the peer certificate and report days until expiry, names and chain status."""
    params = ctx.check.params
    address = str(params.get("address") or "")
    if not address:
        raise CheckError("a tls check needs address: HOST")
    port = int(params.get("port") or 443)
    name = str(params.get("server_name") or address)
    verify = params.get("verify", True) is not False
    ca_file = str(params["ca_file"]) if params.get("ca_file") else None
    if ca_file and not Path(ca_file).is_absolute():
        ca_file = str(ctx.folder / ca_file)
    where = f"{address}:{port}"
    problem: str | None = None
    if verify:
        context = await ctx.connections.to_thread(_verifying_context, ca_file)
        try:
            der, version = await _fetch(ctx, address, port, name, context, where)
        except ssl.SSLCertVerificationError as exc:
            problem = _verify_reason(exc, name)
            der, version = await _fetch(ctx, address, port, name, _open_context(), where)
    else:
        der, version = await _fetch(ctx, address, port, name, _open_context(), where)
    return _observation(der, version, name, where, verify, problem)


def _verifying_context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise CheckError(f"cannot load the CA bundle {ca_file}: {exc}") from None


def _open_context() -> ssl.SSLContext:
    # Reads the certificate only: nothing is sent over this connection.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _fetch(ctx: CheckContext, address: str, port: int, name: str, context: ssl.SSLContext,
                 where: str) -> tuple[bytes, str]:
    """The peer certificate (DER) and the TLS version, within the check's time."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(ctx.remaining()):
            _, writer = await asyncio.open_connection(
                address, port, ssl=context, server_hostname=name,
                ssl_handshake_timeout=max(0.1, ctx.remaining()))
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            version = str(ssl_object.version()) if ssl_object is not None else "?"
    except ssl.SSLCertVerificationError:
        raise
    except TimeoutError:
        raise CheckError(f"no TLS handshake with {where} within {ctx.check.timeout:g}s") from None
    except ConnectionRefusedError:
        raise CheckError(f"connection refused by {where}") from None
    except socket.gaierror as exc:
        raise CheckError(f"cannot resolve {address}: {exc.strerror}") from None
    except ssl.SSLError as exc:
        raise CheckError(f"TLS handshake with {where} failed: {exc.reason or exc}") from None
    except OSError as exc:
        raise CheckError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    except EOFError:
        raise CheckError(f"{where} closed the connection during the TLS handshake") from None
    finally:
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            except (TimeoutError, OSError, ssl.SSLError):
                pass  # a peer that never answers close_notify must not hold the check
    if not der:
        raise CheckError(f"{where} sent no certificate")
    return der, version


def _verify_reason(exc: ssl.SSLCertVerificationError, name: str) -> str:
    message = str(exc.verify_message or exc.reason or exc)
    lowered = message.lower()
    if "expired" in lowered:
        return "certificate has expired"
    if "not yet valid" in lowered:
        return "certificate is not yet valid"
    if "hostname mismatch" in lowered or "ip address mismatch" in lowered:
        return f"certificate is not valid for {name!r}"
    return f"certificate chain is not trusted: {message}"


def _observation(der: bytes, version: str, name: str, where: str, verify: bool,
                 problem: str | None) -> Observation:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CheckError(f"cannot read the certificate from {where}: {exc}") from None
    now = datetime.now(UTC)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    # Exact days, fractions kept: whole days toward zero made a certificate expired 9 hours ago
    # "0 days" (passing ge: 0); rounding is for the summary only.
    days = (not_after - now).total_seconds() / 86400
    dns_names, ip_names = _sans(cert)
    matches = _name_matches(name, dns_names, ip_names, cert)
    names = [*dns_names, *ip_names] or [_common_name(cert) or "?"]
    data: dict[str, Any] = {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": names,
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": days,
        "hostname": name,
        "hostname_match": matches,
        "chain_verified": verify and problem is None,
        "verified": verify,
        "serial": format(cert.serial_number, "x"),
        "tls_version": version,
    }
    if problem and "not valid for" in problem:
        problem += f" (certificate names: {', '.join(names)})"
    expiry = f"expires {not_after:%Y-%m-%d}" if days >= 0 else f"expired {not_after:%Y-%m-%d}"
    lines = [f"{k}: {v}" for k, v in data.items() if k != "sans"]
    lines.insert(2, f"names: {', '.join(names)}")
    status: Status | None = None
    shown = show(days, "days")
    summary = f"{where} certificate {expiry} ({shown}), {'trusted' if verify else 'not verified'}"
    if problem:
        status = Status.FAIL
        summary = f"{problem}; {expiry} ({shown})"
        lines.append(f"verification: {problem}")
    return Observation(output="\n".join(lines), data=data, value=days, unit="days",
                       label="certificate expires in", status=status, summary=summary)


def _sans(cert: Any) -> tuple[list[str], list[str]]:
    from cryptography import x509

    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ([str(n) for n in ext.get_values_for_type(x509.DNSName)],
            [str(n) for n in ext.get_values_for_type(x509.IPAddress)])


def _common_name(cert: Any) -> str | None:
    from cryptography.x509.oid import NameOID

    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _name_matches(name: str, dns_names: list[str], ip_names: list[str], cert: Any) -> bool:
    """RFC 6125 matching: IP SANs for addresses, DNS SANs (one leftmost wildcard label) otherwise."""
    if _is_ip(name):
        return any(ipaddress.ip_address(name) == ipaddress.ip_address(ip) for ip in ip_names)
    candidates = dns_names or [n for n in [_common_name(cert)] if n]
    wanted = name.lower().rstrip(".").split(".")
    for pattern in candidates:
        labels = pattern.lower().rstrip(".").split(".")
        if len(labels) != len(wanted):
            continue
        if labels[0] == "*" and labels[1:] == wanted[1:] and len(labels) > 2:
            return True
        if labels == wanted:
            return True
    return False
