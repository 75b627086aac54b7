"""Tests redaction of secret values (and encoded forms) and of every known secret shape."""

from __future__ import annotations

import base64
import tomllib
from importlib import resources
from urllib.parse import quote

import pytest
import toml_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine import redact
from predeploy_tui.engine.redact import LineRedactor, Redactor, find_secrets, rules

from .secret_corpus import ENV_SECRET, NEGATIVES, SECRET_VAR
from .secret_corpus import SHAPES as CORPUS

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


def test_every_rule_compiles() -> None:
    # Patterns compile on first use, when a text holds one of the rule's words: a rule that
    # cannot compile would otherwise surface only on the output that needs it.
    for rule in rules():
        assert rule.pattern.pattern == rule.source, rule.kind
        assert rule.words, rule.kind


def test_the_vendored_rules_read_alike_with_tomllib() -> None:
    raw = resources.files("predeploy_tui").joinpath("data/secret_rules.toml").read_text("utf-8")
    assert toml_rs.loads(raw, toml_version="1.0.0") == tomllib.loads(raw)


@pytest.mark.parametrize("text", ["exit 0 on web1", "", "nothing to see " * 200,
                                  "DB_PASSWORD=correcthorse port=5432 token: abc"]
                         + [t for t, _ in SHAPES.values()])
def test_a_short_text_is_scanned_as_a_long_one(text: str) -> None:
    lower = text.lower()
    everywhere = [(m.start(), m.group(1)) for m in redact._word_finder().finditer(lower)]
    assert redact._scan(lower) == everywhere
    assert redact._scan(lower + " " * redact.SHORT_TEXT) == everywhere  # past the short path


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(redact._keywords()),
                          st.text(alphabet="ab-_:=. \n\"'", max_size=6)), max_size=40))
def test_the_short_path_finds_what_the_word_pattern_finds(parts: list[str]) -> None:
    lower = "".join(parts).lower()[:redact.SHORT_TEXT]
    everywhere = [(m.start(), m.group(1)) for m in redact._word_finder().finditer(lower)]
    assert redact._scan(lower) == everywhere


def test_a_short_text_with_a_word_does_not_compile_the_word_pattern() -> None:
    # The app's first screen redacts a short check line ("gh api ..."): the pattern of 258
    # words took 7 ms to compile there, for a search that a few finds do.
    redact._word_finder.cache_clear()
    assert redact._scan("db_password: hunter2 via the api") != []
    assert redact._word_finder.cache_info().currsize == 0
    assert find_secrets("DB_PASSWORD=correcthorse") != []
    assert redact._word_finder.cache_info().currsize == 0


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


@pytest.mark.parametrize(("name", "line", "secret"), CORPUS, ids=[s[0] for s in CORPUS])
def test_corpus_shape_is_masked(name: str, line: str, secret: str) -> None:
    out = Redactor([ENV_SECRET, SECRET_VAR]).redact(line)
    assert secret not in out, name
    assert "***" in out


def test_corpus_has_at_least_sixty_shapes() -> None:
    assert len({name for name, _, _ in CORPUS}) >= 60


@pytest.mark.parametrize("line", NEGATIVES)
def test_ordinary_text_survives_redaction(line: str) -> None:
    assert Redactor([ENV_SECRET, SECRET_VAR]).redact(line) == line


def test_a_known_value_split_across_a_line_break_loses_both_halves() -> None:
    text = f"a {ENV_SECRET[:7]}\n{ENV_SECRET[7:]} b"
    out = Redactor([ENV_SECRET]).redact(text)
    assert ENV_SECRET[:7] not in out
    assert ENV_SECRET[7:] not in out
    assert out == "a ***\n b"


def test_a_short_known_value_is_not_hunted_in_other_words() -> None:
    # Reversed, upper-cased and split forms are for values long enough to be unmistakable.
    assert Redactor(["nip"]).redact("PIN in the spin") == "PIN in the spin"


def test_a_streamed_value_split_across_two_lines_never_shows() -> None:
    stream = LineRedactor(Redactor([ENV_SECRET]))
    shown = stream.feed(f"first {ENV_SECRET[:7]}\n") + stream.feed(f"{ENV_SECRET[7:]} then\n")
    shown += stream.flush()
    assert ENV_SECRET[:7] not in shown
    assert ENV_SECRET[7:] not in shown


def test_references_and_masks_are_not_secrets() -> None:
    # A session file keeps the check as written: ${env:X} is a reference, not a value.
    assert find_secrets('password = "${env:DB_PASSWORD}"\ntoken: ***\n') == []


def test_known_values_deep_in_a_long_output_are_masked_whole_and_split() -> None:
    filler = "ordinary log line with nothing secret in it\n" * 5000
    text = (filler + f"x {ENV_SECRET} y\n" + filler + f"{ENV_SECRET[:5]}\n{ENV_SECRET[5:]}\n"
            + filler + ENV_SECRET.upper() + "\n")
    out = Redactor([ENV_SECRET]).redact(text)
    assert out.count("***") == 3
    assert ENV_SECRET[:5] not in out
    assert ENV_SECRET[5:] not in out
    assert ENV_SECRET.upper() not in out
