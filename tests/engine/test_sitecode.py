"""Which site files a check executes: plugin files and the site scripts a local command names."""

from __future__ import annotations

import hashlib
from pathlib import Path

from predeploy_tui.engine.sitecode import code_of, site_scripts


def project(tmp_path: Path) -> Path:
    (tmp_path / "checklists").mkdir()
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "scan.sh").write_text("#!/bin/sh\necho scan\n")
    (checks / "audit.py").write_text("print('audit')\n")
    (checks / "rules.json").write_text("{}\n")
    tool = checks / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    return tmp_path / "checklists"


def test_site_scripts_are_the_scripts_a_command_names_inside_the_project(tmp_path: Path) -> None:
    folder = project(tmp_path)
    command = ("python3 ../checks/audit.py --rules ../checks/rules.json && ../checks/scan.sh | "
               "sh<../checks/scan.sh; (../checks/tool) ; /bin/sh -c true; cat /etc/hostname")
    found = [p.name for p in site_scripts(command, folder)]
    assert found == ["audit.py", "scan.sh", "tool"]  # data, system files and repeats left out


def test_code_of_hashes_the_plugin_and_local_scripts_only(tmp_path: Path) -> None:
    folder = project(tmp_path)
    plugin = tmp_path / "checks" / "audit.py"
    local = code_of({"run": "../checks/scan.sh"}, folder=folder, local=True, plugin_file=plugin)
    assert [(c.path, c.sha256) for c in local] == [
        ("../checks/audit.py", hashlib.sha256(plugin.read_bytes()).hexdigest()),
        ("../checks/scan.sh", hashlib.sha256(b"#!/bin/sh\necho scan\n").hexdigest())]
    remote = code_of({"run": "../checks/scan.sh"}, folder=folder, local=False, plugin_file=None)
    assert remote == ()  # a command over SSH runs the remote host's files
    unbalanced = code_of({"run": "../checks/scan.sh 'oops"}, folder=folder, local=True,
                         plugin_file=None)
    assert [c.path for c in unbalanced] == ["../checks/scan.sh"]
