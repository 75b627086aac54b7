"""Provides every file location predeploy uses, with environment overrides and no side effects."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """Where the keymap and settings live (``PREDEPLOY_CONFIG_DIR``, else XDG config)."""
    override = _env_path("PREDEPLOY_CONFIG_DIR")
    if override:
        return override
    base = _env_path("XDG_CONFIG_HOME") or Path.home() / ".config"
    return base / "predeploy"


def keymap_file() -> Path:
    """The key remapping file: ``[keys]`` binding id = key."""
    return config_dir() / "keymap.toml"


def sessions_dir() -> Path:
    """Where new sessions are saved (``PREDEPLOY_SESSIONS_DIR``, else ./sessions)."""
    return _env_path("PREDEPLOY_SESSIONS_DIR") or Path.cwd() / "sessions"


def state_dir() -> Path:
    """Where logs go (``PREDEPLOY_STATE_DIR``, else XDG state)."""
    override = _env_path("PREDEPLOY_STATE_DIR")
    if override:
        return override
    base = _env_path("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return base / "predeploy"


def bundled_checklists_dir() -> Path:
    """The checklists shipped with the project (``PREDEPLOY_CHECKLISTS_DIR`` overrides)."""
    override = _env_path("PREDEPLOY_CHECKLISTS_DIR")
    if override:
        return override
    return Path(__file__).resolve().parent.parent / "checklists"


def demo_checklist() -> Path:
    """The demo checklist a newcomer opens first."""
    return bundled_checklists_dir() / "demo.yaml"


def schema_file() -> Path:
    """The JSON Schema file that bundled checklists reference for editors."""
    return Path(str(resources.files("predeploy_tui") / "data" / "checklist.schema.json"))


def session_path_for(checklist_id: str, version: str, env: str) -> Path:
    """The default session file: ``sessions/<checklist-id>-<version>-<env>.toml``."""
    parts = [checklist_id, version or "unversioned"] + ([env] if env else [])
    safe = "-".join(p.replace("/", "_").replace(" ", "_") for p in parts)
    return sessions_dir() / f"{safe}.toml"


def ssh_config_file() -> Path:
    """The OpenSSH client config checks use (``PREDEPLOY_SSH_CONFIG``, else ~/.ssh/config)."""
    return _env_path("PREDEPLOY_SSH_CONFIG") or Path.home() / ".ssh" / "config"


def known_hosts_override() -> Path | None:
    """``PREDEPLOY_KNOWN_HOSTS``: the one user known_hosts file, replacing UserKnownHostsFile.

    None when unset: the ssh_config's UserKnownHostsFile (default ``~/.ssh/known_hosts`` and
    ``known_hosts2``) applies, as in OpenSSH. GlobalKnownHostsFile applies either way.
    """
    return _env_path("PREDEPLOY_KNOWN_HOSTS")
