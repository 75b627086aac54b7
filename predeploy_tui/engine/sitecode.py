"""Provides what site code a check is about to execute: its plugin file and the site scripts it names.

A checklist's own code lives beside it: plugin files (``plugins:``) and site scripts under
``checks/`` that local commands name (``../checks/security_scan.sh``, ``python3
../checks/validate_configs.py``). :func:`code_of` hashes them just before the check runs.

A site script is a word of a local command (shell-split, as the shell would) that names an
existing regular file inside the checklist's project (the checklist's folder or its parent) and
is executable or has a script suffix. Files a script sources in turn are not followed, and a
command run over SSH executes remote files, which are not hashed here.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from predeploy_tui.core.provenance import CodeFile, file_sha256

SCRIPT_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".py", ".pl", ".rb", ".js", ".ts", ".ps1",
                             ".php", ".lua", ".awk", ".sed", ".jq"})
"""File suffixes that make a named file a script even when it is not executable."""


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:  # an unbalanced quote: the shell refuses it too; look at the raw words
        return command.split()


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _path_words(command: str) -> list[str]:
    """The words of a local command that could name a file: a path, or a name with a suffix."""
    words = (raw.lstrip("<>&|;(").rstrip(";&|)")  # `sh<../checks/x.sh`, `(../checks/x.sh)`
             for raw in _words(command))
    return [w for w in words if w and ("/" in w or Path(w).suffix)]


def names_files(params: Mapping[str, object], *, local: bool, plugin_file: Path | None) -> bool:
    """Whether :func:`code_of` has files to look at for these fields (no file is touched here):
    a caller can skip handing it to a thread when the answer is no, the common case."""
    command = params.get("run")
    return plugin_file is not None or (
        local and isinstance(command, str) and bool(_path_words(command)))


def site_scripts(command: str, folder: Path) -> list[Path]:
    """The site scripts a local command names (see the module docstring), in order, once each."""
    words = _path_words(command)
    if not words:
        return []
    folder = folder.resolve()
    roots = [folder, folder.parent]
    found: dict[Path, None] = {}
    for word in words:
        candidate = Path(word) if os.path.isabs(word) else folder / word
        try:
            resolved = candidate.resolve()
            if not resolved.is_file() or not _inside(resolved, roots):
                continue
            if resolved.suffix.lower() in SCRIPT_SUFFIXES or os.access(resolved, os.X_OK):
                found[resolved] = None
        except OSError:
            continue
    return list(found)


def code_of(params: Mapping[str, object], *, folder: Path, local: bool,
            plugin_file: Path | None) -> tuple[CodeFile, ...]:
    """The site files a check with these fields is about to execute, hashed now.

    ``local``: its command runs on this machine (not over SSH); ``plugin_file``: the file of its
    type when that is a site plugin.
    """
    if not names_files(params, local=local, plugin_file=plugin_file):
        return ()  # a remote command, a command of bare words, a built-in type: nothing to hash
    files: list[Path] = [plugin_file.resolve()] if plugin_file is not None else []
    command = params.get("run")
    if local and isinstance(command, str):
        files += site_scripts(command, folder)
    out: dict[str, CodeFile] = {}
    base = folder.resolve()
    for path in files:
        digest = file_sha256(path)
        if digest is not None:
            rel = os.path.relpath(path, base)
            out.setdefault(rel, CodeFile(rel, digest))
    return tuple(out.values())
