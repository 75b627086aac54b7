"""Provides the provenance of check runs: which site files' code a run executed, by sha256.

A result records the hash of each plugin file and site script its check executed, as it was when
the check ran (:class:`CodeFile`); :func:`changes` compares those with the files now, so `verify`
and a reviewer learn when the code behind a recorded result changed since. Hashing a file
executes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_BYTES = 16 * 1024 * 1024
"""Files larger than this are not hashed as site code (and are not read whole)."""


@dataclass(frozen=True)
class CodeFile:
    """One site file a check executed, as it was when the check ran."""

    path: str
    """The file as seen from the checklist's folder (``../checks/security_scan.sh``)."""
    sha256: str
    """Hex digest of its bytes when the check ran."""


def file_sha256(path: Path, limit: int = MAX_BYTES) -> str | None:
    """The file's sha256 hex digest; None when it cannot be read (gone, unreadable, over
    ``limit`` bytes)."""
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True)
class CodeChange:
    """A site file whose content differs from (or is gone since) what a recorded run executed."""

    key: str
    """The item whose run executed it."""
    path: str
    """The file, relative to the checklist's folder."""
    ran: str
    """Its sha256 when the check ran."""
    now: str | None
    """Its sha256 now; None when it is gone or unreadable."""

    def line(self) -> str:
        """One line for verify, the reviewer's notice and the re-run question."""
        now = f"now {self.now[:12]}" if self.now else "now missing"
        return f"{self.key}: {self.path} changed since it ran (ran {self.ran[:12]}, {now})"


def changes(recorded: Iterable[tuple[str, Sequence[CodeFile]]], folder: Path) -> list[CodeChange]:
    """Which recorded site files differ now: ``recorded`` is (item key, files its run executed)."""
    out: list[CodeChange] = []
    current: dict[str, str | None] = {}
    for key, files in recorded:
        for f in files:
            if f.path not in current:
                current[f.path] = file_sha256(folder / f.path)
            if current[f.path] != f.sha256:
                out.append(CodeChange(key, f.path, f.sha256, current[f.path]))
    return out


def recorded_code(runs: Iterable[tuple[str, Any]]) -> list[tuple[str, Sequence[CodeFile]]]:
    """(item key, files executed) for each ``(key, CheckResult | None)`` given, hosts included."""
    out: list[tuple[str, Sequence[CodeFile]]] = []
    for key, result in runs:
        if result is None:
            continue
        files = dict.fromkeys([*result.code, *(c for h in result.hosts for c in h.code)])
        if files:
            out.append((key, list(files)))
    return out


def deployer_code_changes(items: Iterable[Any], folder: Path) -> list[CodeChange]:
    """Site files changed since the deployer's latest run of each item executed them."""
    return changes(recorded_code((state.key, state.result) for state in items), folder)
