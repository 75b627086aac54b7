"""Tests the streaming path under volume: chunked redaction with a carry, few events, spawn pacing."""

from __future__ import annotations

import asyncio
import os
import random
import re

import pytest

import predeploy_tui.engine.local as local
import predeploy_tui.engine.redact as redact
from predeploy_tui.engine.local import LocalTransport
from predeploy_tui.engine.redact import LineRedactor, Redactor, find_secrets

KEY = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAnotreallyakey0123456789\n"
       "c2VjcmV0LWtleS1ib2R5LWxpbmU=\n-----END RSA PRIVATE KEY-----\n")
SECRETS = ("hunter2-value", "MIIEowIBAAKCAQEAnotreallyakey0123456789", "c2VjcmV0LWtleS1ib2R5LWxpbmU=",
           "correcthorse", "Tr0ub4dor")


def _stream() -> str:
    lines = [f"line {n} of ordinary output" for n in range(300)]
    lines[40] = "the value is hunter2-value here"
    lines[120] = "DB_PASSWORD=correcthorse port=5432"
    lines[200] = "url postgres://app:Tr0ub4dor@db.internal/app"
    text = "\n".join(lines) + "\n"
    cut = text.index("line 250")
    return text[:cut] + KEY + text[cut:]


@pytest.mark.parametrize("seed", range(25))
def test_chunked_redaction_never_lets_a_secret_through_a_chunk_boundary(seed: int) -> None:
    # Given the stream cut at random points, as pipe reads cut it...
    text = _stream()
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), 40))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    stream = LineRedactor(Redactor(["hunter2-value"]))
    shown = "".join(stream.feed(p) for p in pieces) + stream.flush()
    # ...nothing secret shows, and every ordinary line does, in order.
    for secret in SECRETS:
        assert secret not in shown
    assert "-----BEGIN" not in shown
    kept = [line for line in shown.splitlines() if line.startswith("line ")]
    assert kept == [f"line {n} of ordinary output" for n in range(300) if n not in (40, 120, 200)]


def test_secret_words_gate_the_shape_patterns() -> None:
    plain = "burst 3 line 42 of a deliberately chatty check\n" * 200
    assert find_secrets(plain) == []
    assert Redactor().redact(plain) == plain
    # The gate is case-insensitive, the shapes still need their own case where they have one.
    assert [k for k, _, _ in find_secrets("X_Api_Key: AbCd1234")] == ["secret assignment"]
    assert find_secrets("akiaiosfodnn7example") == []


async def test_output_arrives_in_chunks_not_lines() -> None:
    chunks: list[str] = []
    result = await LocalTransport().run("seq 1 20000", timeout=20, on_output=chunks.append)
    assert "".join(chunks) == result.stdout
    assert result.stdout.splitlines() == [str(n) for n in range(1, 20001)]
    assert len(chunks) < 200  # a read takes what the pipe holds, not one line


async def test_spawns_take_turns_with_the_rest_of_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a ticker that counts turns of the loop, and a record of which turn each fork ran in...
    turns = 0
    forks: list[int] = []
    real = asyncio.create_subprocess_exec

    async def counted(*args: object, **kw: object) -> asyncio.subprocess.Process:
        forks.append(turns)
        return await real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(local.asyncio, "create_subprocess_exec", counted)
    stop = asyncio.Event()

    async def tick() -> None:
        nonlocal turns
        while not stop.is_set():
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    transport = LocalTransport({"PATH": os.environ["PATH"]})
    # When 40 commands start at once...
    results = await asyncio.gather(*(transport.run("true", timeout=20) for _ in range(40)))
    stop.set()
    await ticker
    # ...they all ran, and no turn of the loop forked more than one of them.
    assert all(r.exit_code == 0 for r in results)
    assert len(forks) == 40
    assert max(forks.count(t) for t in set(forks)) == 1


def _fed(stream: LineRedactor, text: str, cuts: list[int]) -> str:
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return "".join(stream.feed(p) for p in pieces) + stream.flush()


def test_plain_lines_say_the_whole_redaction_would_change_nothing() -> None:
    # Given chatty output with no trace of a secret, fed in pieces cut anywhere...
    text = "burst 3 line 42 of a deliberately chatty check\n" * 300
    stream = LineRedactor(Redactor(["hunter2-value"]))
    shown = _fed(stream, text, list(range(7, len(text), 997)))
    # ...it shows as it is, and says redacting it whole would give it back unchanged.
    assert shown == text
    assert stream.whole_unchanged
    assert Redactor(["hunter2-value"]).redact(text) == text


@pytest.mark.parametrize("text", [
    "line one\n" + KEY + "line two\n",  # a key block: only masked whole
    "all quiet\nthe token was rotated\n",  # a rule's word, no secret in that line
    "quiet\nhunter2-va\nlue\n",  # a known value split across a line break
    "x" * 9000 + "\n",  # a line longer than a piece: cut inside it
], ids=["key block", "rule word", "split value", "long line"])
def test_any_trace_of_a_secret_leaves_the_whole_redaction_to_run(text: str) -> None:
    stream = LineRedactor(Redactor(["hunter2-value"]))
    _fed(stream, text, [3, min(len(text) - 1, 8500)])
    assert not stream.whole_unchanged


def test_a_value_added_while_streaming_leaves_the_whole_redaction_to_run() -> None:
    redactor = Redactor()
    stream = LineRedactor(redactor)
    stream.feed("the new value is swordfish-42\n")
    assert stream.whole_unchanged  # nothing was known to look for yet
    redactor.add(["swordfish-42"])
    assert not stream.whole_unchanged  # the earlier lines were not searched for it
    assert redactor.redact("the new value is swordfish-42\n") == "the new value is ***\n"


TRACES = ["pass", "word", "=", ": ", "hunter2", "-value", "-----BEGIN", " PRIVATE", " KEY-----",
          "-----END", "ghp_", "a" * 36, "tok", "en", "Bearer ", "abcdefghij", "://u:", "pw@h",
          "AKIA", "IOSFODNN7EXAMPLE"]
QUIET = ["quiet", " ", "line", "\n", "\n", "\n", "ok", "1234", "x" * 20]


@pytest.mark.parametrize("seed", range(200))
def test_whole_unchanged_is_never_wrong(seed: int) -> None:
    """Whenever the stream says so, redacting the whole text really gives it back unchanged."""
    rng = random.Random(seed)
    text = "".join(rng.choice(TRACES if rng.random() < 0.1 else QUIET)
                   for _ in range(rng.randrange(1, 60)))
    cuts = sorted(set(rng.sample(range(1, len(text)), min(len(text) - 1, 6)))) if len(text) > 1 \
        else []
    stream = LineRedactor(Redactor(["hunter2-value"]), flush_at=rng.choice([8, 64, 8192]))
    _fed(stream, text, cuts)
    if stream.whole_unchanged:
        assert Redactor(["hunter2-value"]).redact(text) == text


def test_long_output_without_a_rule_word_skips_the_word_by_word_search(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding every word at every place is the costly search: a long text where no word starts
    anywhere (most output) is told apart by a cheaper one first."""
    searched: list[int] = []
    finder = redact._word_finder

    def spy() -> re.Pattern[str]:
        searched.append(1)
        return finder()

    monkeypatch.setattr(redact, "_word_finder", spy)
    plain = "burst 3 line 42 of a deliberately chatty check\n" * 200
    assert redact._scan(plain) == []
    assert searched == []
    assert redact._scan(plain + "the token here\n") == [(len(plain) + 4, "token")]
    assert searched == [1]


@pytest.mark.parametrize("seed", range(20))
def test_the_word_search_finds_what_it_found_from_the_start(seed: int) -> None:
    rng = random.Random(seed)
    words = redact._keywords()
    text = "".join(rng.choice(["x" * rng.randrange(1, 400), "line of text ", "\n", "pa", "ss",
                               rng.choice(words)]) for _ in range(rng.randrange(1, 80))).lower()
    everywhere = [(m.start(), m.group(1)) for m in redact._word_finder().finditer(text)]
    assert redact._scan(text) == everywhere
