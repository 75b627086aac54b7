"""Provides a throwaway OpenSSH server: generated host and user keys, known_hosts and an ssh_config.

``sshd -D -e -f CONFIG`` runs as the current user in its own process group (so a test can kill it
and every session child at once) on a free loopback port. The ssh_config names several aliases of
the same server and one reached through another alias by ProxyJump, like a bastion setup.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
"""Debian's openssh-server daemon."""
ALIASES = ("web1", "web2", "web3", "web4")
"""ssh_config aliases that all reach the server directly."""
JUMPED = "behind"
"""An alias reached through ``web1`` by ProxyJump."""


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    """Whether sshd and ssh-keygen are installed here."""
    return SSHD.exists() and Path("/usr/bin/ssh-keygen").exists()


def keygen(path: Path, comment: str) -> str:
    """Make an ed25519 key pair at ``path`` (no passphrase); returns the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, timeout=30)
    return Path(f"{path}.pub").read_text().strip()


@dataclass
class SSHServer:
    """A running sshd and the client files that reach it."""

    folder: Path
    """Temp folder holding keys, configs and logs."""
    port: int
    """The port sshd listens on (127.0.0.1)."""
    user: str
    """The login user (the one running the tests)."""
    user_key: Path
    """The private key sshd accepts."""
    wrong_key: Path
    """A private key sshd does not accept."""
    host_key_line: str
    """The server's public host key (``ssh-ed25519 AAAA...``)."""
    ssh_config: Path
    """An ssh_config with :data:`ALIASES`, :data:`JUMPED` (ProxyJump web1) and ``wrongkey``."""
    known_hosts: Path
    """known_hosts trusting the server's host key at ``[127.0.0.1]:port``."""
    changed_known_hosts: Path
    """known_hosts with a different key for the same address (a changed host key)."""
    empty_known_hosts: Path
    """known_hosts without the server (an unknown host key)."""
    other_type_known_hosts: Path
    """known_hosts pinning an ECDSA key for the address, while the server has only ED25519."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    """The sshd process (its own process group)."""

    @property
    def aliases(self) -> tuple[str, ...]:
        """The directly reachable aliases."""
        return ALIASES

    def kill(self) -> None:
        """Kill sshd and every connection process it forked, at once (the server dies mid-run).

        sshd's per-connection children call setsid(), so they are found through /proc by parent.
        """
        if self.process is not None and self.process.poll() is None:
            family = _descendants(self.process.pid)
            self.process.kill()
            for pid in family:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(timeout=10)

    def start(self) -> None:
        """Start (or restart) sshd and wait until it answers with its banner."""
        self.kill()
        log = (self.folder / "sshd.log").open("ab")
        self.process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(self.folder / "sshd_config")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("sshd exited: " + (self.folder / "sshd.log").read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not answer within 15 s")


def _descendants(root: int) -> list[int]:
    """Every process under ``root`` (children, grandchildren, ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def make_server(folder: Path) -> SSHServer:
    """Generate keys and configs in ``folder`` and start sshd."""
    import getpass

    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation folder
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = getpass.getuser()
    host_key = folder / "ssh_host_ed25519_key"
    host_line = keygen(host_key, "predeploy-test-host")
    keygen(folder / "other_host_key", "another-host")
    other_line = (folder / "other_host_key.pub").read_text().strip()
    user_key = folder / "id_user"
    user_line = keygen(user_key, "predeploy-test-user")
    wrong_key = folder / "id_wrong"
    keygen(wrong_key, "not-authorized")
    (folder / "authorized_keys").write_text(user_line + "\n")
    (folder / "sshd_config").write_text(f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
# The temp folder's permissions are not what StrictModes insists on for a home directory.
StrictModes no
# ProxyJump opens direct-tcpip channels through the first hop.
AllowTcpForwarding yes
# The engine opens up to 10 channels per connection in the concurrency test (default 10 is tight)
# and many aliases handshake at once (the default 10:30:100 drops connections beyond 10).
MaxSessions 64
MaxStartups 100:30:200
# Debian's bash reads ~/.bashrc for every command sshd runs unless SHLVL shows a nested shell; the
# test user's rc files (here root's runs `pyenv init`, ~200 ms) are not what these tests measure.
SetEnv SHLVL=1
LogLevel ERROR
""")
    ssh_config = folder / "ssh_config"
    blocks = [f"""Host {alias}
    HostName 127.0.0.1
    Port {port}
    User {user}
    IdentityFile {user_key}
    IdentitiesOnly yes
""" for alias in ALIASES]
    blocks.append(f"""Host {JUMPED}
    HostName 127.0.0.1
    Port {port}
    User {user}
    IdentityFile {user_key}
    IdentitiesOnly yes
    ProxyJump web1
""")
    blocks.append(f"""Host wrongkey
    HostName 127.0.0.1
    Port {port}
    User {user}
    IdentityFile {wrong_key}
    IdentitiesOnly yes
""")
    ssh_config.write_text("\n".join(blocks))
    key_part = " ".join(host_line.split()[:2])
    other_part = " ".join(other_line.split()[:2])
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {key_part}\n")
    changed = folder / "known_hosts.changed"
    changed.write_text(f"[127.0.0.1]:{port} {other_part}\n")
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(folder / "ecdsa_key")],
                   check=True, timeout=30)
    ecdsa_part = " ".join((folder / "ecdsa_key.pub").read_text().split()[:2])
    other_type = folder / "known_hosts.ecdsa"
    other_type.write_text(f"[127.0.0.1]:{port} {ecdsa_part}\n")
    empty = folder / "known_hosts.empty"
    empty.write_text(f"[127.0.0.1]:{free_port()} {key_part}\n")
    server = SSHServer(folder=folder, port=port, user=user, user_key=user_key, wrong_key=wrong_key,
                       host_key_line=key_part, ssh_config=ssh_config, known_hosts=known_hosts,
                       changed_known_hosts=changed, empty_known_hosts=empty,
                       other_type_known_hosts=other_type)
    server.start()
    return server


def fingerprint(public_key_line: str, folder: Path) -> str:
    """``SHA256:...`` of a public key, as ssh-keygen prints it."""
    pub = folder / "fp.pub"
    pub.write_text(public_key_line + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return out.split()[1]
