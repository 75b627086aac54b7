"""Tests the streaming path under volume: chunked redaction with a carry, few events, spawn pacing."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

import predeploy_tui.engine.local as local
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
