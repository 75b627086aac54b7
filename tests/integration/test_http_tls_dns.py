"""The ``http``, ``tls`` and ``dns`` check types against real loopback servers.

HTTPS servers use throwaway trustme certificates (valid, expiring in 10 days, expired, wrong name);
the DNS server is a small authoritative one answering ``servers.dns.RECORDS`` over UDP and TCP.
"""

from __future__ import annotations

import shutil

import pytest
from servers import https
from servers.dns import DNSServer
from servers.https import HTTPSServers
from servers.run_check import run_check, undocumented

from predeploy_tui.core.results import Status

pytestmark = pytest.mark.integration


def url(servers: HTTPSServers, path: str, port: int | None = None) -> str:
    return f"https://localhost:{port or servers.valid}{path}"


# -- http ---------------------------------------------------------------------------------

async def test_http_status_jmespath_and_contains(https_servers: HTTPSServers) -> None:
    ok = await run_check("http", {"url": url(https_servers, "/health"), "status": 200,
                                  "ca_file": str(https_servers.ca_file)},
                         expect={"jmespath": "replicas.ready", "ge": 3})
    assert ok.status is Status.PASS, ok.summary
    assert ok.obs is not None
    assert ok.obs.data == https.HEALTH
    assert ok.obs.unit == "ms"
    assert isinstance(ok.obs.value, float)
    text = await run_check("http", {"url": url(https_servers, "/text"),
                                    "ca_file": str(https_servers.ca_file)},
                           expect={"contains": "queue depth", "not_contains": "error"})
    assert text.status is Status.PASS, text.summary
    wrong = await run_check("http", {"url": url(https_servers, "/health"),
                                     "ca_file": str(https_servers.ca_file)},
                            expect={"jmespath": "status", "equals": "degraded"})
    assert wrong.status is Status.FAIL


async def test_http_body_longer_than_read_is_not_judged_on_its_head(
        https_servers: HTTPSServers) -> None:
    # Given a body longer than the check reads, its error beyond that,
    params = {"url": url(https_servers, "/big"), "ca_file": str(https_servers.ca_file)}
    # when a matcher reads the body, then it cannot judge it: error, not a pass on a part,
    body = await run_check("http", params, expect={"not_contains": "error"})
    assert body.status is Status.ERROR, body.summary
    assert body.obs is not None
    assert body.obs.output.endswith("[output cut here: the rest was not read] …\n")
    # while the status code alone, observed in full, still passes.
    status = await run_check("http", params)
    assert status.status is Status.PASS, status.summary


async def test_http_unexpected_status_fails(https_servers: HTTPSServers) -> None:
    outcome = await run_check("http", {"url": url(https_servers, "/status/503"),
                                       "ca_file": str(https_servers.ca_file)})
    assert outcome.status is Status.FAIL
    assert outcome.summary == "HTTP 503 Service Unavailable (expected 2xx)"
    listed = await run_check("http", {"url": url(https_servers, "/status/503"), "status": [200, 503],
                                      "ca_file": str(https_servers.ca_file)})
    assert listed.status is Status.PASS


async def test_http_latency_threshold(https_servers: HTTPSServers) -> None:
    slow = await run_check("http", {"url": url(https_servers, "/slow"), "max_latency": "200ms",
                                    "ca_file": str(https_servers.ca_file)})
    assert slow.status is Status.FAIL
    assert slow.summary.startswith("latency ")
    assert "> 200 ms" in slow.summary
    fast = await run_check("http", {"url": url(https_servers, "/slow"), "max_latency": "5s",
                                    "ca_file": str(https_servers.ca_file)})
    assert fast.status is Status.PASS


async def test_a_value_read_from_the_body_is_not_called_latency(https_servers: HTTPSServers) -> None:
    check = {"url": url(https_servers, "/text"), "ca_file": str(https_servers.ca_file)}
    labelled = await run_check("http", check, expect={"regex": r"queue depth (\d+)", "le": 3,
                                                     "label": "queue depth"})
    assert labelled.status is Status.FAIL
    assert labelled.summary == "queue depth 4 > 3"
    named = await run_check("http", check, expect={"regex": r"queue depth (?P<depth>\d+)",
                                                  "group": "depth", "le": 10})
    assert named.summary == "depth 4 <= 10"
    bare = await run_check("http", check, expect={"regex": r"queue depth (\d+)", "le": 10})
    assert bare.status is Status.PASS
    assert bare.summary == "value 4 <= 10"


async def test_http_bearer_token_is_sent_but_never_shown(https_servers: HTTPSServers) -> None:
    denied = await run_check("http", {"url": url(https_servers, "/private"),
                                      "ca_file": str(https_servers.ca_file)})
    assert denied.status is Status.FAIL
    assert "401" in denied.summary
    allowed = await run_check("http", {"url": url(https_servers, "/private"), "bearer": https.TOKEN,
                                       "ca_file": str(https_servers.ca_file)},
                              expect={"jmespath": "secret_area", "equals": "welcome"})
    assert allowed.status is Status.PASS, allowed.summary
    assert allowed.obs is not None
    assert https.TOKEN not in allowed.obs.output
    assert https.TOKEN not in allowed.summary


async def test_http_posts_json(https_servers: HTTPSServers) -> None:
    outcome = await run_check("http", {"url": url(https_servers, "/echo"), "method": "POST",
                                       "json": {"release": "1.4.2"},
                                       "ca_file": str(https_servers.ca_file)},
                              expect={"jmespath": "received.release", "equals": "1.4.2"})
    assert outcome.status is Status.PASS, outcome.summary


async def test_http_tls_is_verified_by_default(https_servers: HTTPSServers) -> None:
    untrusted = await run_check("http", {"url": url(https_servers, "/health")})
    assert untrusted.status is Status.ERROR
    assert "TLS certificate not trusted" in untrusted.summary
    unverified = await run_check("http", {"url": url(https_servers, "/health"), "verify": False})
    assert unverified.status is Status.PASS


async def test_http_faults_are_errors_within_the_timeout(silent_port: int, refused_port: int) -> None:
    silent = await run_check("http", {"url": f"http://127.0.0.1:{silent_port}/"}, timeout=1.0)
    assert silent.status is Status.ERROR
    assert "no response" in silent.summary
    assert silent.elapsed < 1.0 + 1
    refused = await run_check("http", {"url": f"http://127.0.0.1:{refused_port}/"}, timeout=3)
    assert refused.status is Status.ERROR
    assert refused.summary == f"cannot connect to http://127.0.0.1:{refused_port}/: connection refused"


# -- tls ----------------------------------------------------------------------------------

def tls(servers: HTTPSServers, port: int, **extra: object) -> dict[str, object]:
    return {"address": "127.0.0.1", "port": port, "server_name": "localhost",
            "ca_file": str(servers.ca_file), **extra}


async def test_tls_valid_certificate_passes_with_its_days(https_servers: HTTPSServers) -> None:
    outcome = await run_check("tls", tls(https_servers, https_servers.valid), expect={"ge": 30})
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.obs is not None
    assert isinstance(outcome.obs.value, float)
    assert 364 < outcome.obs.value < 366
    data = outcome.obs.data
    assert data["chain_verified"] is True
    assert data["hostname_match"] is True
    assert "localhost" in data["sans"]
    assert "certificate expires in 36" in outcome.summary


async def test_tls_certificate_expiring_soon_fails_the_threshold(https_servers: HTTPSServers) -> None:
    outcome = await run_check("tls", tls(https_servers, https_servers.expiring), expect={"ge": 30})
    assert outcome.status is Status.FAIL
    assert outcome.summary.startswith("certificate expires in 10.0 days")
    assert "< 30" in outcome.summary
    strict = await run_check("tls", tls(https_servers, https_servers.expiring), expect={"gt": 30})
    assert strict.status is Status.FAIL
    assert "10.0 days" in strict.summary


async def test_tls_days_left_are_exact_not_whole(https_servers: HTTPSServers) -> None:
    # Given a certificate that expired 9 hours ago, read without verification (verify: false)
    check = tls(https_servers, https_servers.just_expired, verify=False)
    # When it must have at least 0 days left
    outcome = await run_check("tls", check, expect={"ge": 0})
    # Then it fails: it has -0.375 days, not "0 whole days"
    assert outcome.status is Status.FAIL, outcome.summary
    assert outcome.obs is not None
    assert outcome.obs.value == pytest.approx(-0.375, abs=0.01)


async def test_tls_days_left_as_openssl_reads_them(https_servers: HTTPSServers) -> None:
    import subprocess
    from datetime import UTC, datetime

    for port in (https_servers.valid, https_servers.expiring, https_servers.expired):
        # The reference client's reading of the certificate's end date
        served = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                                 "-servername", "localhost"], input="", capture_output=True,
                                text=True, timeout=20)
        enddate = subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=served.stdout,
                                 capture_output=True, text=True, timeout=20, check=True)
        not_after = datetime.strptime(enddate.stdout.strip().removeprefix("notAfter="),
                                      "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
        now = datetime.now(UTC)
        outcome = await run_check("tls", tls(https_servers, port, verify=False))
        assert outcome.obs is not None
        assert datetime.fromisoformat(outcome.obs.data["not_after"]) == not_after
        assert undocumented("tls", outcome.obs.data) == []
        days = (not_after - now).total_seconds() / 86400
        assert outcome.obs.data["days_left"] == pytest.approx(days, abs=30 / 86400)


async def test_tls_expired_certificate_fails_with_its_dates(https_servers: HTTPSServers) -> None:
    outcome = await run_check("tls", tls(https_servers, https_servers.expired), expect={"ge": 30})
    assert outcome.status is Status.FAIL
    assert outcome.summary.startswith("certificate has expired; expired ")
    assert outcome.obs is not None
    assert outcome.obs.value == pytest.approx(-3, abs=0.01)
    assert outcome.obs.data["not_after"]
    assert outcome.obs.data["chain_verified"] is False


async def test_tls_wrong_name_fails_naming_the_mismatch(https_servers: HTTPSServers) -> None:
    outcome = await run_check("tls", tls(https_servers, https_servers.wrong_name))
    assert outcome.status is Status.FAIL
    assert "not valid for 'localhost'" in outcome.summary
    assert "wrong.example.net" in outcome.summary
    assert outcome.obs is not None
    assert outcome.obs.data["hostname_match"] is False


async def test_tls_untrusted_chain_fails(https_servers: HTTPSServers) -> None:
    params = tls(https_servers, https_servers.valid)
    del params["ca_file"]
    outcome = await run_check("tls", params)
    assert outcome.status is Status.FAIL
    assert outcome.summary.startswith("certificate chain is not trusted")
    unverified = await run_check("tls", {**params, "verify": False}, expect={"ge": 30})
    assert unverified.status is Status.PASS


async def test_tls_faults_are_errors(silent_port: int, refused_port: int) -> None:
    silent = await run_check("tls", {"address": "127.0.0.1", "port": silent_port}, timeout=1.0)
    assert silent.status is Status.ERROR
    assert "no TLS handshake" in silent.summary
    assert silent.elapsed < 1.0 + 1
    refused = await run_check("tls", {"address": "127.0.0.1", "port": refused_port}, timeout=3)
    assert refused.status is Status.ERROR
    assert refused.summary == f"connection refused by 127.0.0.1:{refused_port}"


# -- dns ----------------------------------------------------------------------------------

def dns(server: DNSServer, name: str, record: str, values: list[str] | None = None) -> dict[str, object]:
    params: dict[str, object] = {"name": name, "record": record, "nameserver": "127.0.0.1",
                                 "port": server.port}
    if values is not None:
        params["values"] = values
    return params


@pytest.mark.parametrize(("name", "record", "values"), [
    ("api.deploy.test", "A", ["10.0.0.10", "10.0.0.11"]),
    ("api.deploy.test", "AAAA", ["2001:db8:0::10"]),
    ("www.deploy.test", "CNAME", ["api.deploy.test"]),
    ("deploy.test", "MX", ["10 mail1.deploy.test", "mail2.deploy.test."]),
    ("api.deploy.test", "TXT", ["release=1.4.2"]),
    ("deploy.test", "NS", ["ns1.deploy.test"]),
])
async def test_dns_records_answer_the_expected_values(dns_server: DNSServer, name: str, record: str,
                                                      values: list[str]) -> None:
    outcome = await run_check("dns", dns(dns_server, name, record, values))
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.obs is not None
    assert outcome.obs.data["answers"]


async def test_dns_missing_value_fails_naming_it(dns_server: DNSServer) -> None:
    outcome = await run_check("dns", dns(dns_server, "api.deploy.test", "A", ["10.0.0.10", "10.0.0.99"]))
    assert outcome.status is Status.FAIL
    assert outcome.summary == ("api.deploy.test A lacks 10.0.0.99 "
                               "(answered: 10.0.0.10, 10.0.0.11)")


async def test_dns_nxdomain_and_no_answer_fail_for_the_name_was_checked(dns_server: DNSServer) -> None:
    # An authoritative "no such name" / "no such record" is an answer: fail, not "could not check"
    missing = await run_check("dns", dns(dns_server, "nope.deploy.test", "A"))
    assert missing.status is Status.FAIL
    assert missing.summary == f"nope.deploy.test does not exist (NXDOMAIN from 127.0.0.1:{dns_server.port})"
    assert missing.obs is not None
    assert missing.obs.data["rcode"] == "NXDOMAIN"
    assert missing.obs.data["answers"] == []
    empty = await run_check("dns", dns(dns_server, "www.deploy.test", "MX"))
    assert empty.status is Status.FAIL
    assert "has no MX record" in empty.summary
    wanted = await run_check("dns", dns(dns_server, "nope.deploy.test", "A", ["10.0.0.10"]))
    assert wanted.status is Status.FAIL
    # A name that must be gone can say so
    gone = await run_check("dns", dns(dns_server, "nope.deploy.test", "A"),
                           expect={"jmespath": "rcode", "equals": "NXDOMAIN"})
    assert gone.status is Status.PASS, gone.summary



async def test_dns_silent_server_times_out(refused_port: int) -> None:
    # UDP to a port nobody reads: the question is never answered.
    outcome = await run_check("dns", {"name": "api.deploy.test", "record": "A",
                                      "nameserver": "127.0.0.1", "port": refused_port}, timeout=1.0)
    assert outcome.status is Status.ERROR
    assert outcome.elapsed < 1.0 + 1


async def test_dns_system_resolver_reads_hosts_file() -> None:
    outcome = await run_check("dns", {"name": "localhost", "record": "A", "values": ["127.0.0.1"]},
                              timeout=5)
    assert outcome.status is Status.PASS, outcome.summary


def _dig(server: DNSServer, name: str, record: str) -> tuple[str, list[str]]:
    """(status, answers) as dig, a second resolver implementation, reads them from ``server``."""
    import subprocess

    done = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), name, record,
                           "+noall", "+comments", "+answer", "+tries=1", "+time=5"],
                          capture_output=True, text=True, timeout=30, check=True)
    status = done.stdout.split("status: ", 1)[1].split(",", 1)[0]
    answers = [line.split(None, 4)[4] for line in done.stdout.splitlines()
               if line and not line.startswith(";") and len(line.split(None, 4)) == 5]
    return status, answers


def _canonical(record: str, answers: list[str]) -> list[str]:
    """dig's rdata text in the dns check's own spelling: no trailing dots, TXT unquoted."""
    out = [a.strip('"') if record == "TXT" else " ".join(w.rstrip(".") for w in a.split())
           for a in answers]
    return sorted(out)


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig (bind9-dnsutils) not installed")
@pytest.mark.parametrize(("name", "record"), [
    ("api.deploy.test", "A"), ("api.deploy.test", "AAAA"), ("api.deploy.test", "TXT"),
    ("www.deploy.test", "CNAME"), ("deploy.test", "MX"), ("deploy.test", "NS"),
    ("nope.deploy.test", "A"), ("www.deploy.test", "MX"),
])
async def test_dns_answers_as_dig_reads_them(dns_server: DNSServer, name: str, record: str) -> None:
    status, answers = _dig(dns_server, name, record)
    outcome = await run_check("dns", dns(dns_server, name, record))
    assert outcome.obs is not None, outcome.summary
    assert outcome.obs.data["rcode"] == status
    assert undocumented("dns", outcome.obs.data) == []
    assert sorted(outcome.obs.data["answers"]) == _canonical(record, answers)
    # An answer of nothing fails; answers pass: the name was checked either way
    assert outcome.status is (Status.PASS if answers else Status.FAIL)


@pytest.mark.skipif(shutil.which("getent") is None, reason="getent not installed")
async def test_system_resolver_as_getent_reads_it() -> None:
    import subprocess

    done = subprocess.run(["getent", "ahostsv4", "localhost"], capture_output=True, text=True,
                          timeout=30, check=True)
    theirs = sorted({line.split()[0] for line in done.stdout.splitlines()})
    outcome = await run_check("dns", {"name": "localhost", "record": "A"}, timeout=5)
    assert outcome.obs is not None, outcome.summary
    assert sorted(outcome.obs.data["answers"]) == theirs


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
@pytest.mark.parametrize("path", ["/health", "/text", "/status/503", "/private"])
async def test_http_as_curl_reads_it(https_servers: HTTPSServers, path: str) -> None:
    import json
    import subprocess

    done = subprocess.run(["curl", "-sS", "--cacert", str(https_servers.ca_file), "-w", "\n%{http_code}",
                           url(https_servers, path)], capture_output=True, text=True, timeout=30,
                          check=True)
    body, _, code = done.stdout.rpartition("\n")
    outcome = await run_check("http", {"url": url(https_servers, path), "status": [200, 401, 503],
                                       "ca_file": str(https_servers.ca_file)})
    assert outcome.obs is not None, outcome.summary
    head = outcome.obs.output.splitlines()[0]
    assert f" -> {code} " in head
    assert outcome.obs.output.endswith(body)
    if body.startswith("{"):
        assert outcome.obs.data == json.loads(body)
