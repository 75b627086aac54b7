"""Tests redaction of secret values (and encoded forms) and of every known secret shape."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine.redact import LineRedactor, Redactor, find_secrets

PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIHh0Zm9v\n-----END OPENSSH PRIVATE KEY-----")

SHAPES = {
    "private key": (f"key:\n{PRIVATE_KEY}\ndone", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"),
    "AWS access key id": ("aws id AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
    "AWS session key id": ("id ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
    "AWS secret key": ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                       "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "bearer token": ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
                     "eyJhbGciOiJIUzI1NiJ9"),
    "password in URL": ("postgres://app:Tr0ub4dor@db.internal:5432/app", "Tr0ub4dor"),
    "GitHub token": ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a ok",
                     "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    "GitHub fine-grained": ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                            "github_pat_11ABCDEFG0123456789"),
    "Slack token": ("SLACK xoxb-123456789012-1234567890123-AbCdEfGhIjKl", "xoxb-123456789012"),
    "password assignment": ("DB_PASSWORD=correcthorse port=5432", "correcthorse"),
    "passwd colon": ("passwd: letmein99", "letmein99"),
    "secret assignment": ("client_secret='abc123def'", "abc123def"),
    "token assignment": ('{"token": "tok-998877"}', "tok-998877"),
    "api key assignment": ("api_key=AbCd1234", "AbCd1234"),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_known_shape_is_replaced(name: str) -> None:
    text, secret = SHAPES[name]
    out = Redactor().redact(text)
    assert secret not in out
    assert "***" in out
    assert find_secrets(text), name


def test_harmless_text_is_left_alone() -> None:
    text = "deployed 3 pods in 4.2 s; see https://example.com/docs?page=2"
    assert Redactor().redact(text) == text
    assert find_secrets(text) == []


def test_secret_values_and_their_encodings_are_replaced() -> None:
    secret = "p@ss word/+="
    r = Redactor([secret])
    text = " | ".join([secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode(),
                       base64.urlsafe_b64encode(secret.encode()).decode()])
    out = r.redact(text)
    assert out == " | ".join(["***"] * 4)


def test_result_fields_and_host_results_are_redacted() -> None:
    r = Redactor(["hunter22"])
    host = CheckResult(Status.PASS, "ok hunter22", output="x hunter22", host="web1")
    result = r.result(CheckResult(Status.PASS, "said hunter22", output="hunter22\n",
                                  data={"rows": [{"pw": "hunter22"}]}, hosts=(host,)))
    assert "hunter22" not in repr(result)


def test_streamed_private_key_split_across_chunks_never_shows() -> None:
    stream = LineRedactor(Redactor())
    shown = ""
    for i in range(0, len(PRIVATE_KEY) + 6, 7):
        shown += stream.feed((PRIVATE_KEY + "\nafter\n")[i:i + 7])
    shown += stream.flush()
    assert "b3Blbn" not in shown
    assert "AAAAC3N" not in shown
    assert shown.endswith("***\nafter\n")
