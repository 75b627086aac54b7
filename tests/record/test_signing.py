"""SSH signatures of sign-offs: interop both ways with ssh-keygen, wrong key, other namespace."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.engine import signing

from .demo import DEMO, finished_session

DATA = b"3f2c" * 16


def keygen(folder: Path, name: str, kind: str = "ed25519") -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", name, "-f", str(key)],
                   check=True, timeout=30)
    return key


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    found = {"ana": keygen(tmp_path, "ana"), "eve": keygen(tmp_path, "eve", "ecdsa")}
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'ana@example.org namespaces="{signing.NAMESPACE}" '
                       f"{(tmp_path / 'ana.pub').read_text()}")
    found["allowed"] = allowed
    return found


def ssh_keygen_verify(tmp_path: Path, allowed: Path, signature: str, namespace: str) -> int:
    sig = tmp_path / "data.sig"
    sig.write_text(signature)
    return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I",
                           "ana@example.org", "-n", namespace, "-s", str(sig)], input=DATA,
                          capture_output=True, timeout=30).returncode


async def test_signature_made_here_verifies_with_ssh_keygen(tmp_path: Path,
                                                            keys: dict[str, Path]) -> None:
    made = await signing.sign(DATA, key_file=keys["ana"])
    assert made.armored.startswith("-----BEGIN SSH SIGNATURE-----")
    assert ssh_keygen_verify(tmp_path, keys["allowed"], made.armored, signing.NAMESPACE) == 0
    # ssh-keygen pins the namespace too: the same signature is no git signature
    assert ssh_keygen_verify(tmp_path, keys["allowed"], made.armored, "git") != 0
    assert signing.verify(DATA, made.armored, keys["allowed"]).valid


def test_signature_made_by_ssh_keygen_verifies_here(tmp_path: Path, keys: dict[str, Path]) -> None:
    data = tmp_path / "data"
    data.write_bytes(DATA)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(keys["ana"]), "-n",
                    signing.NAMESPACE, str(data)], check=True, timeout=30)
    signature = (tmp_path / "data.sig").read_text()
    check = signing.verify(DATA, signature, keys["allowed"])
    assert check.valid, check.reason
    assert check.principal == "ana@example.org"
    assert not signing.verify(DATA + b"!", signature, keys["allowed"]).valid


async def test_wrong_key_is_rejected(keys: dict[str, Path]) -> None:
    made = await signing.sign(DATA, key_file=keys["eve"])
    check = signing.verify(DATA, made.armored, keys["allowed"])
    assert not check.valid
    assert made.fingerprint in check.reason


def test_signature_from_another_namespace_is_rejected(tmp_path: Path,
                                                      keys: dict[str, Path]) -> None:
    data = tmp_path / "data"
    data.write_bytes(DATA)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(keys["ana"]), "-n", "git",
                    str(data)], check=True, timeout=30)
    # an allowed_signers entry without a namespace restriction: the pin must still hold
    open_allowed = tmp_path / "open_signers"
    open_allowed.write_text(f"ana@example.org {(tmp_path / 'ana.pub').read_text()}")
    check = signing.verify(DATA, (tmp_path / "data.sig").read_text(), open_allowed)
    assert not check.valid
    assert "namespace 'git'" in check.reason


def test_garbage_signature_is_rejected(keys: dict[str, Path]) -> None:
    assert not signing.verify(DATA, "not a signature", keys["allowed"]).valid
    assert not signing.verify(DATA, "-----BEGIN SSH SIGNATURE-----\n!!\n-----END SSH SIGNATURE-----",
                              keys["allowed"]).valid


@pytest.fixture
def agent(tmp_path: Path, keys: dict[str, Path]) -> Iterator[str]:
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            subprocess.run(["sleep", "0.05"], check=True)
        subprocess.run(["ssh-add", "-q", str(keys["ana"])], check=True, timeout=30,
                       env={**os.environ, "SSH_AUTH_SOCK": str(sock)}, capture_output=True)
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_signing_through_the_agent_verifies_with_ssh_keygen(
        tmp_path: Path, keys: dict[str, Path], agent: str) -> None:
    made = await signing.sign(DATA, agent_path=agent)
    assert ssh_keygen_verify(tmp_path, keys["allowed"], made.armored, signing.NAMESPACE) == 0
    assert signing.verify(DATA, made.armored, keys["allowed"]).valid


async def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(signing.SigningError, match="cannot sign with key"):
        await signing.sign(DATA, key_file=tmp_path / "nope")


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_required_signatures_end_to_end(tmp_path: Path, keys: dict[str, Path]) -> None:
    # Given a checklist that requires signatures and names its allowed_signers file
    checklist = tmp_path / "demo.yaml"
    checklist.write_text(DEMO.read_text() + "require_signatures: true\n"
                         "allowed_signers: allowed_signers\n")
    session = finished_session(sign=False)
    session.checklist_path = "demo.yaml"
    session.checklist_sha256 = ""
    path = tmp_path / "s.toml"
    store.save(session, path)
    # When engineering signs with a key file
    code, _ = _run("sign", str(path), "--role", "engineering", "--name", "Ana",
                   "--key", str(keys["ana"]))
    assert code == 0
    code, text = _run("verify", str(path))
    assert code == 0, text
    assert "signature: good" in text
    assert "ana@example.org" in text
    # Then a signature by a key not in allowed_signers fails verify
    code, _ = _run("sign", str(path), "--role", "engineering", "--name", "Eve",
                   "--key", str(keys["eve"]))
    code, text = _run("verify", str(path))
    assert code == 1
    assert "signature: BAD" in text
    # And an unsigned sign-off is not enough
    code, _ = _run("sign", str(path), "--role", "engineering", "--name", "Ana")
    code, text = _run("verify", str(path))
    assert code == 1
    assert "MISSING" in text
