"""Provides the ``dns`` check type: resolve a name's records and require expected values.

With ``nameserver`` the question goes to that server (dnspython's asyncio resolver, UDP then TCP
on truncation); without it A and AAAA use the system's resolver (``/etc/hosts`` included, as the
deployed application would resolve) and the other records go to the servers in resolv.conf.

A name that does not exist (NXDOMAIN) or has no record of the type asked is an answer: the name
was checked, so the check fails (or its expectation judges the empty answer), it is not an error.
Only no answer at all (timeout, refused, SERVFAIL) means it could not be checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck

DATA = """\
value: the number of answers (int)
output (regex, contains, not_contains): "NAME RECORD (from SERVER):", then one answer a line
data (jmespath, each):
  name      string          the name asked for
  record    string          A, AAAA, CNAME, MX, TXT, NS, PTR or SRV
  server    string          "system resolver" or the name servers asked (host:port)
  rcode     string          NOERROR, or NXDOMAIN when the name does not exist
  answers   list of string  sorted; MX "PREF HOST", SRV "PRIO WEIGHT PORT HOST", TXT joined
  missing   list of string  the expected values (values:) that were not answered
own verdicts: a missing expected value fails; NXDOMAIN or no record of the type fails (the name
  was checked) unless an expectation judges the empty answer; no answer at all is an error
example:
  expect: {jmespath: rcode, equals: NXDOMAIN}     # the old name must be gone
"""
"""What this type exposes to expectations: ``predeploy explain dns`` prints it."""


def describe(check: ResolvedCheck, host: str | None) -> str:
    """``DNS A api.example.com @127.0.0.1:5353``."""
    shown = check.shown
    server = ""
    if shown.get("nameserver"):
        server = f" @{shown['nameserver']}" + (f":{shown['port']}" if shown.get("port") else "")
    return f"DNS {shown.get('record') or 'A'} {shown.get('name', '')}{server}"


async def run(ctx: CheckContext) -> Observation:
    """Ask for the records; every expected value must be among the answers."""
    params = ctx.check.params
    name = str(params.get("name") or "")
    if not name:
        raise CheckError("a dns check needs name: NAME")
    record = str(params.get("record") or "A").upper()
    nameserver = str(params["nameserver"]) if params.get("nameserver") else None
    port = int(params.get("port") or 53)
    if nameserver is None and record in ("A", "AAAA"):
        server = "system resolver"
        answers, rcode = await _system(ctx, name, record)
    else:
        answers, server, rcode = await _ask(ctx, name, record, nameserver, port)
    return _observation(name, record, server, answers, _wanted(params.get("values")), rcode,
                        judged_by_expect=bool(ctx.check.expect))


NXDOMAIN = "NXDOMAIN"
"""The answer's code when the name does not exist."""
NOERROR = "NOERROR"
"""The answer's code when the name exists (with or without records of the type asked)."""
_NO_SUCH_NAME = {getattr(socket, n) for n in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, n)}
"""getaddrinfo's "the name (or its address) does not exist": an answer, not a failure to ask."""


async def _system(ctx: CheckContext, name: str, record: str) -> tuple[list[str], str]:
    family = socket.AF_INET if record == "A" else socket.AF_INET6
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(ctx.remaining()):
            infos = await loop.getaddrinfo(name, None, family=family, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise CheckError(f"the system resolver gave no answer for {name} within "
                         f"{ctx.check.timeout:g}s") from None
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            return [], NXDOMAIN if exc.errno == getattr(socket, "EAI_NONAME", None) else NOERROR
        raise CheckError(f"{name} does not resolve ({record}): {exc.strerror}") from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen, NOERROR


async def _ask(ctx: CheckContext, name: str, record: str, nameserver: str | None,
               port: int) -> tuple[list[str], str, str]:
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    if nameserver is not None:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [nameserver]
        resolver.port = port
        server = f"{nameserver}:{port}"
    else:
        try:
            resolver = await ctx.connections.to_thread(dns.asyncresolver.Resolver)
        except dns.resolver.NoResolverConfiguration:
            raise CheckError("no name server configured (resolv.conf): give nameserver:") from None
        server = ", ".join(str(n) for n in resolver.nameservers)
    wait = ctx.remaining()
    resolver.timeout = wait
    resolver.lifetime = wait
    try:
        answer = await resolver.resolve(name, record, search=False, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return [], server, NXDOMAIN
    except dns.resolver.NoAnswer:
        return [], server, NOERROR
    except dns.resolver.LifetimeTimeout:
        raise CheckError(f"no answer from {server} for {name} {record} within "
                         f"{ctx.check.timeout:g}s") from None
    except dns.resolver.NoNameservers as exc:
        raise CheckError(f"no name server answered {name} {record}: {_one_line(exc)}") from None
    except dns.exception.DNSException as exc:
        raise CheckError(f"DNS lookup of {name} {record} failed: {_one_line(exc)}") from None
    return sorted((_text(record, rdata) for rdata in answer), key=_order), server, NOERROR


def _order(text: str) -> tuple[int, str]:
    # Answers come in any order: sort them, MX / SRV by their leading number.
    head, _, rest = text.partition(" ")
    return (int(head), rest) if head.isdigit() and rest else (0, text)


def _text(record: str, rdata: Any) -> str:
    if record == "MX":
        return f"{rdata.preference} {_host(rdata.exchange)}"
    if record in ("CNAME", "NS", "PTR"):
        return _host(rdata.target)
    if record == "TXT":
        return "".join(part.decode("utf-8", "replace") for part in rdata.strings)
    if record == "SRV":
        return f"{rdata.priority} {rdata.weight} {rdata.port} {_host(rdata.target)}"
    return str(rdata.to_text())


def _host(name: Any) -> str:
    return str(name.to_text()).rstrip(".") or "."


def _wanted(raw: Any) -> list[str]:
    if raw is None:
        return []
    return [str(raw)] if isinstance(raw, str) else [str(v) for v in raw]


def _same(record: str, answer: str, wanted: str) -> bool:
    if record in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(answer) == ipaddress.ip_address(wanted.strip())
        except ValueError:
            return answer == wanted.strip()
    if record == "TXT":
        return answer == wanted
    a, w = answer.lower().rstrip("."), wanted.lower().strip().rstrip(".")
    if record in ("MX", "SRV"):
        # An expected MX may omit the preference: "mail.example.com" matches "10 mail.example.com".
        return a == w or a.split()[-1] == w
    return a == w


def _observation(name: str, record: str, server: str, answers: Sequence[str],
                 wanted: Sequence[str], rcode: str = NOERROR, *,
                 judged_by_expect: bool = False) -> Observation:
    missing = [w for w in wanted if not any(_same(record, a, w) for a in answers)]
    shown = ", ".join(answers)
    data = {"name": name, "record": record, "server": server, "rcode": rcode,
            "answers": list(answers), "missing": missing}
    output = f"{name} {record} (from {server}):\n" + "\n".join(answers)
    status: Status | None = None
    summary = f"{name} {record}: {shown}"
    if not answers:
        summary = f"{name} does not exist ({rcode} from {server})" if rcode == NXDOMAIN \
            else f"{name} has no {record} record (answer from {server})"
        output = f"{name} {record} (from {server}): {summary}"
        # The name was checked: no record fails, unless an expectation (eq: 0) judges that.
        status = None if judged_by_expect and not missing else Status.FAIL
    if missing:
        status = Status.FAIL
        summary = f"{name} {record} lacks {', '.join(missing)} (answered: {shown or 'nothing'})"
    return Observation(output=output, data=data, value=len(answers), label=f"{record} records",
                       status=status, summary=summary)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
