"""The bundled pre-deployment checklist passes nothing it did not observe.

It runs headless in an empty sandbox: an empty folder as the project (no git repository), an
empty HOME (no credentials, no kubeconfig, no SSH keys), no network (a fresh network namespace,
where even loopback is down) and either a PATH with only sh and coreutils or the machine's own
PATH (git, logger, docker... as installed, none of them configured). Nothing there can be
verified, so no item may pass or warn: each is error, fail, skipped, blocked or pending.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from predeploy_tui.core import store
from predeploy_tui.core.results import Status

ROOT = Path(__file__).resolve().parents[1]
CHECKLIST = ROOT / "checklists" / "pre-deployment.yaml"
BARE_TOOLS = ("sh", "cat", "echo", "test", "[", "head", "tail", "tr", "cut", "wc", "sort", "uniq",
              "ls", "env", "date", "printf", "true", "false", "mkdir", "rm", "dirname",
              "basename", "id", "uname", "sleep", "tee", "readlink", "expr", "grep", "sed")
UNOBSERVED = {Status.ERROR, Status.FAIL, Status.SKIPPED, Status.BLOCKED, Status.PENDING}


def _no_network() -> list[str]:
    """A command prefix that runs in a new network namespace (loopback down)."""
    unshare = shutil.which("unshare")
    for prefix in ([unshare, "-rn"], [unshare, "-n"]) if unshare else ():
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return prefix
    pytest.skip("no network namespace can be made here (unshare -rn and -n both refused)")


def _bare_path(folder: Path) -> str:
    folder.mkdir()
    for tool in BARE_TOOLS:
        found = shutil.which(tool)
        if found:
            (folder / tool).symlink_to(found)
    return str(folder)


@pytest.mark.parametrize("tools", ["bare", "machine"])
def test_nothing_passes_in_an_empty_sandbox(tmp_path: Path, tools: str) -> None:
    project, home, sessions = tmp_path / "project", tmp_path / "home", tmp_path / "sessions"
    for folder in (project, home):
        folder.mkdir()
    path = _bare_path(tmp_path / "bin") if tools == "bare" else \
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env = {"PATH": path, "HOME": str(home), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8",
           "PREDEPLOY_SESSIONS_DIR": str(sessions),
           # The Grafana item needs its key to be given; a made-up one reaches nothing.
           "GRAFANA_API_KEY": "not-a-real-key"}
    ran = subprocess.run(
        [*_no_network(), sys.executable, "-m", "predeploy_tui.cli", "run", str(CHECKLIST),
         "--headless", "--var", "version=1.0.0", "--var", f"project_dir={project}",
         "--var", f"configs_dir={project / 'configs'}",
         "--var", f"api_key_inventory={project / 'configs' / 'api_keys.json'}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert ran.returncode == 3, ran.stdout + ran.stderr
    (saved,) = sessions.glob("*.toml")
    session = store.load(saved)
    observed = {key: (state.status.value, state.result.summary if state.result else "")
                for key, state in session.items.items() if state.status not in UNOBSERVED}
    assert observed == {}, ran.stdout
    # A tool missing, a daemon not answering, nothing to audit: "could not check", never fail.
    for key in ("code.committed", "code.no-critical-vulns", "security.dependency-audit",
                "configuration.configs-valid", "rollback.previous-images"):
        assert session.items[key].status is Status.ERROR, (key, ran.stdout)
    # Every check and action was tried (nothing left pending but the manual items).
    pending = {k for k, s in session.items.items() if s.status is Status.PENDING}
    assert pending == {k for k, s in session.items.items() if s.kind == "manual"}
