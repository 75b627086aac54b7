"""Provides a throwaway PostgreSQL server: initdb into a temp folder, pg_ctl on a free loopback port.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as ``nobody``
(the temp folder is handed to it). pg_stat_statements is preloaded so the seed's baseline query
has something to read.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def _newest_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _newest_bin()
"""Debian's PostgreSQL binaries, the newest installed (15 on Debian 12)."""
SUPERUSER = "postgres"
"""The bootstrap superuser (trusted over the unix socket only)."""
USER = "deployer"
"""A password-authenticated (scram) login for the checks."""
PASSWORD = "s3cret-pg-pass"
"""Its password."""
DATABASE = "postgres"
"""The database the checks use."""


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    """Whether PostgreSQL's server binaries are installed here."""
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


@dataclass
class PostgresServer:
    """One running cluster; ``dsn`` reaches it over TCP as :data:`USER` (password not included)."""

    folder: Path
    """The temp folder holding data, socket and log."""
    port: int = field(default_factory=free_port)
    """The TCP port on 127.0.0.1."""

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={DATABASE} user={USER}"

    @property
    def admin_dsn(self) -> str:
        """The superuser over the unix socket (trust): for setting up fixtures."""
        return f"host={self.folder} port={self.port} dbname={DATABASE} user={SUPERUSER}"

    def _as_owner(self, *argv: str | Path) -> list[str]:
        cmd = [str(a) for a in argv]
        if os.geteuid() == 0:
            return ["runuser", "-u", "nobody", "--", *cmd]
        return cmd

    def init(self) -> None:
        """initdb with scram for TCP and trust for the unix socket."""
        pwfile = self.folder / "pw"
        pwfile.write_text("unused-superuser-password\n")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "nobody")
            shutil.chown(pwfile, "nobody")
        subprocess.run(self._as_owner(BIN / "initdb", "-D", self.data, "-U", SUPERUSER,
                                      "-A", "scram-sha-256", "--auth-local=trust",
                                      f"--pwfile={pwfile}", "-E", "UTF8", "--no-instructions"),
                       check=True, capture_output=True, timeout=120, cwd=self.folder)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c shared_preload_libraries=pg_stat_statements -c fsync=off "
                   "-c pg_stat_statements.track=all")
        subprocess.run(self._as_owner(BIN / "pg_ctl", "-D", self.data, "-l", self.folder / "log",
                                      "-o", options, "-w", "-t", "60", "start"),
                       check=True, capture_output=True, timeout=90, cwd=self.folder)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` kills it without a checkpoint)."""
        subprocess.run(self._as_owner(BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"),
                       capture_output=True, timeout=60, cwd=self.folder)

    def setup_sql(self, *statements: str) -> None:
        """Run statements as the superuser (autocommit)."""
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=10) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]


def start_server() -> PostgresServer:
    """A started cluster with :data:`USER` and pg_stat_statements created."""
    folder = Path(tempfile.mkdtemp(prefix="predeploy-pg-"))
    os.chmod(folder, 0o755)
    server = PostgresServer(folder)
    try:
        server.init()
        server.start()
        server.setup_sql(
            f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'",
            "CREATE EXTENSION pg_stat_statements",
            f"GRANT pg_read_all_stats TO {USER}",
        )
    except BaseException:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return server


def remove(server: PostgresServer) -> None:
    """Stop the server and delete its folder."""
    server.stop("immediate")
    shutil.rmtree(server.folder, ignore_errors=True)
