"""Provides a throwaway loopback OpenSSH sshd and an ssh_config of host aliases that reach it.

Everything lives in one folder under bench/.work: host key, user key, authorized_keys,
known_hosts, sshd_config, ssh_config. The server listens on 127.0.0.1 on a free port and is
stopped when the benchmark run ends.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
BENCH_USER = "predeploy-bench"
"""The login user when the benchmarks run as root (see :func:`login_user`)."""


@dataclass
class SshServer:
    """A running loopback sshd and the client files that reach it."""

    folder: Path
    """Where its keys and configs are."""
    port: int
    """The port it listens on (127.0.0.1 only)."""
    aliases: list[str]
    """ssh_config host aliases, all of them this server."""
    ssh_config: Path
    """OpenSSH client config with the aliases (IdentityFile, known_hosts, BatchMode set)."""
    known_hosts: Path
    """The server's host key for [127.0.0.1]:port."""
    identity: Path
    """The user's private key."""
    user: str
    """The login user (whoever runs the benchmarks)."""
    process: subprocess.Popen[bytes]
    """sshd itself, in the foreground (-D)."""

    def stop(self) -> None:
        """Stop sshd and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def client_env(self) -> dict[str, str]:
        """An environment for clients: no agent, so only the bench key is offered."""
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        env["PREDEPLOY_SSH_CONFIG"] = str(self.ssh_config)
        env["PREDEPLOY_KNOWN_HOSTS"] = str(self.known_hosts)
        return env


def free_port() -> int:
    """A port nobody listens on right now (bound to port 0 and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def login_user() -> str:
    """Who the benchmarks log in as: a user whose shell starts nothing, when we may create one.

    As root, logging in as root would run root's ~/.bashrc on every command (bash sources it
    when started by sshd), and on this machine that costs 0.1-5 s of pyenv set-up per command:
    the figures would measure a shell profile, not SSH. So as root the bench uses a system user
    ``predeploy-bench`` with /bin/sh (which reads no rc file) and home /, creating it once.
    Otherwise it is whoever runs the benchmarks, with their own shell.
    """
    if os.geteuid() != 0:
        return getpass.getuser()
    try:
        pwd.getpwnam(BENCH_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--shell", "/bin/sh", "--home-dir", "/",
                        "--no-create-home", BENCH_USER], check=True, timeout=30)
    # useradd leaves the password "!" (locked), and sshd without PAM refuses locked accounts even
    # for key logins; "*" means "no password works", which is what a key-only user is.
    subprocess.run(["usermod", "--password", "*", BENCH_USER], check=True, timeout=30)
    return BENCH_USER


def _keygen(path: Path) -> None:
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "predeploy-bench",
                        "-f", str(path)], check=True, timeout=30)


def start(folder: Path, hosts: int = 20) -> SshServer:
    """Start sshd on a free loopback port and write an ssh_config of ``hosts`` aliases of it."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    host_key, user_key = folder / "host_ed25519", folder / "user_ed25519"
    _keygen(host_key)
    _keygen(user_key)
    shutil.copyfile(user_key.with_suffix(".pub"), folder / "authorized_keys")
    user = login_user()
    if os.geteuid() == 0:
        # sshd running as root insists on its privilege separation folder.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        # sshd reads authorized_keys as the login user.
        os.chmod(folder, 0o755)
        os.chmod(folder / "authorized_keys", 0o644)
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nUseDNS no\n"
        "LogLevel ERROR\n"
        # Raised on purpose: the fan-out benchmark opens 20 connections at once (ControlMaster
        # and Ansible do not cap handshakes) and up to 5 channels per connection; the host-scale
        # one holds 200 connections open at once (10 in their handshake at a time).
        # With the defaults (MaxStartups 10:30:100, MaxSessions 10) sshd would drop or refuse
        # some of them and the figures would measure sshd's throttling, not the clients.
        "MaxStartups 200:30:400\n"
        "MaxSessions 100\n"
    )
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=open(folder / "sshd.log", "wb"))  # noqa: SIM115 (lives as long as sshd)
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}: "
                               + (folder / "sshd.log").read_text(errors="replace")[-500:])
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("sshd did not start listening within 10 s")
        time.sleep(0.05)
    public = host_key.with_suffix(".pub").read_text().split()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
    aliases = [f"bench{i:02d}" for i in range(1, hosts + 1)]
    ssh_config = folder / "ssh_config"
    ssh_config.write_text(
        "".join(f"Host {a}\n    HostName 127.0.0.1\n" for a in aliases)
        + f"Host *\n    Port {port}\n    User {user}\n    IdentityFile {user_key}\n"
        f"    IdentitiesOnly yes\n    UserKnownHostsFile {known_hosts}\n"
        "    StrictHostKeyChecking yes\n    BatchMode yes\n    ConnectTimeout 10\n"
        "    LogLevel ERROR\n"
    )
    return SshServer(folder, port, aliases, ssh_config, known_hosts, user_key, user, process)
