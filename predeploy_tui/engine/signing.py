"""Provides SSH signatures of sign-offs, interoperable with ``ssh-keygen -Y sign / verify``.

A sign-off's ``content_sha256`` (the hex text) is signed in the ``predeploy-signoff`` namespace
with the signer's key, through the SSH agent or a key file, and verified against an OpenSSH
allowed_signers file with the namespace pinned: a signature made for another purpose (git
commits, files) never counts as a sign-off.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAMESPACE = "predeploy-signoff"
"""The SSHSIG namespace of sign-off signatures."""
HASH_NAME = "sha512"
"""The hash inside the signature (ssh-keygen's default)."""

_ARMOR = re.compile(r"-----BEGIN SSH SIGNATURE-----\s*(.*?)\s*-----END SSH SIGNATURE-----", re.S)


class SigningError(Exception):
    """A signature could not be made: the message is the one-line reason."""


@dataclass(frozen=True)
class Signature:
    """A signature made here."""

    armored: str
    """The signature in OpenSSH's armored text form (what ``ssh-keygen -Y sign`` writes)."""
    fingerprint: str
    """The signing key's SHA256 fingerprint, as ``ssh-keygen -l`` shows it."""


@dataclass(frozen=True)
class SignatureCheck:
    """The result of verifying a signature."""

    valid: bool
    """The signature is good, by a key allowed for the namespace."""
    reason: str
    """In words: who signed, or why it does not count."""
    principal: str = ""
    """The allowed_signers principal the key belongs to, when valid."""
    fingerprint: str = ""
    """The signing key's fingerprint, when the signature could be read."""


def message(content_sha256: str) -> bytes:
    """The bytes that are signed for a sign-off: its content hash as hex text."""
    return content_sha256.encode("ascii")


async def sign(data: bytes, *, key_file: Path | None = None, agent_path: str | None = None,
               passphrase: str | None = None, timeout: float = 15.0) -> Signature:
    """Sign ``data`` in the sign-off namespace with a key file, else the first agent key.

    ``agent_path`` defaults to ``$SSH_AUTH_SOCK``. Raises :class:`SigningError` with a reason.
    """
    import asyncssh

    try:
        async with asyncio.timeout(timeout):
            if key_file is not None:
                return await asyncio.to_thread(_sign_with_file, data, key_file, passphrase)
            return await _sign_with_agent(data, agent_path)
    except TimeoutError:
        raise SigningError(f"signing took longer than {timeout:g}s") from None
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        where = f"key {key_file}" if key_file is not None else "the SSH agent"
        raise SigningError(f"cannot sign with {where}: {exc}") from None


def _sign_with_file(data: bytes, key_file: Path, passphrase: str | None) -> Signature:
    import asyncssh

    key = asyncssh.read_private_key(str(key_file), passphrase)
    armored = asyncssh.create_sshsig(key, data, namespace=NAMESPACE, hash_name=HASH_NAME)
    return Signature(armored.decode("ascii"), key.get_fingerprint())


async def _sign_with_agent(data: bytes, agent_path: str | None) -> Signature:
    import asyncssh
    from asyncssh.packet import String, UInt32

    agent = await asyncssh.connect_agent(agent_path or "")
    if agent is None:
        raise SigningError("no SSH agent (SSH_AUTH_SOCK is not set); pass a key file")
    try:
        keys = await agent.get_keys()
        if not keys:
            raise SigningError("the SSH agent holds no keys; ssh-add one or pass a key file")
        key: Any = keys[0]
        if key.sig_algorithm == b"ssh-rsa":
            key.set_sig_algorithm(b"rsa-sha2-512")
        signature = await key.sign_async(_signed_data(data))
        blob = (b"SSHSIG" + UInt32(1) + String(key.public_data) + String(NAMESPACE)
                + String(b"") + String(HASH_NAME) + String(signature))
        armored = _armor(blob)
        return Signature(armored, _fingerprint(key.public_data))
    finally:
        agent.close()
        await agent.wait_closed()


def _signed_data(data: bytes) -> bytes:
    from asyncssh.packet import String

    return (b"SSHSIG" + String(NAMESPACE) + String(b"") + String(HASH_NAME)
            + String(hashlib.sha512(data).digest()))


def _armor(blob: bytes) -> str:
    text = binascii.b2a_base64(blob, newline=False).decode("ascii")
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"


def _fingerprint(public_data: bytes) -> str:
    digest = binascii.b2a_base64(hashlib.sha256(public_data).digest(), newline=False)
    return "SHA256:" + digest.decode("ascii").rstrip("=")


def _parse(signature: str) -> tuple[bytes, str] | None:
    """The signer's public key blob and the namespace, or None when it is not an SSH signature."""
    from asyncssh.packet import PacketDecodeError, SSHPacket

    match = _ARMOR.search(signature)
    if match is None:
        return None
    try:
        blob = binascii.a2b_base64("".join(match.group(1).split()))
        packet = SSHPacket(blob)
        if packet.get_bytes(6) != b"SSHSIG" or packet.get_uint32() != 1:
            return None
        public = packet.get_string()
        namespace = packet.get_string().decode("utf-8")
    except (binascii.Error, PacketDecodeError, UnicodeDecodeError, ValueError):
        return None
    return public, namespace


def verify(data: bytes, signature: str, allowed_signers: Path, principal: str = "") -> SignatureCheck:
    """Verify ``signature`` over ``data`` against an allowed_signers file, namespace pinned.

    With ``principal`` only that principal's keys count; without it, any principal whose key
    made the signature (as ``ssh-keygen -Y find-principals`` would find it).
    """
    import asyncssh
    from asyncssh.sshsig import SSHAllowedSignersEntry, import_allowed_signers

    parsed = _parse(signature)
    if parsed is None:
        return SignatureCheck(False, "not an SSH signature (armored SSHSIG expected)")
    public, namespace = parsed
    fingerprint = _fingerprint(public)
    if namespace != NAMESPACE:
        return SignatureCheck(False, f"signature is for namespace {namespace!r}, not {NAMESPACE!r}",
                              fingerprint=fingerprint)
    try:
        text = allowed_signers.read_text(encoding="utf-8")
        allowed = import_allowed_signers(text)
    except OSError as exc:
        return SignatureCheck(False, f"cannot read allowed signers {allowed_signers}: "
                                     f"{exc.strerror}", fingerprint=fingerprint)
    except (ValueError, asyncssh.KeyImportError) as exc:
        return SignatureCheck(False, f"allowed signers {allowed_signers}: {exc}",
                              fingerprint=fingerprint)
    candidates = [principal] if principal else _principals_for(text, public, SSHAllowedSignersEntry)
    for name in candidates:
        try:
            good = asyncssh.validate_sshsig(data, signature.encode("ascii"), name, allowed)
        except (ValueError, asyncssh.KeyImportError, UnicodeEncodeError):
            good = False
        if good:
            return SignatureCheck(True, f"good signature by {name} ({fingerprint})", name,
                                  fingerprint)
    who = f"principal {principal!r}" if principal else "any allowed signer"
    return SignatureCheck(False, f"signature by {fingerprint} does not verify for {who} in "
                                 f"{allowed_signers}", fingerprint=fingerprint)


def _principals_for(text: str, public: bytes, entry_type: Any) -> list[str]:
    import asyncssh
    from asyncssh.public_key import decode_ssh_public_key

    try:
        key = decode_ssh_public_key(public)
    except (asyncssh.KeyImportError, ValueError):
        return []
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entry = entry_type(line)
        except (ValueError, asyncssh.KeyImportError):
            continue
        if entry.key == key:
            out.extend(p for p in line.split(None, 1)[0].split(",") if p)
    return out


def allowed_signers_file(configured: str | None, base: Path, *, timeout: float = 5.0) -> Path | None:
    """The allowed_signers file: the checklist's (relative to ``base``), else git's setting."""
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else base / path
    try:
        out = subprocess.run(["git", "config", "--path", "gpg.ssh.allowedSignersFile"],
                             capture_output=True, text=True, timeout=timeout, check=False,
                             cwd=base if base.is_dir() else None)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return Path(value).expanduser() if out.returncode == 0 and value else None
