"""`./dev test` installs every tool a test skips without: on a fresh machine none is left out."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ALWAYS_THERE = {"getent": "libc-bin, in every Debian", "ruff": "installed into .venv by ./dev"}
"""Tools a test looks for that ./dev does not need to install with apt."""


def _apt_needed() -> set[str]:
    return set(re.findall(r"^\s*apt_need (\S+) ", (ROOT / "dev").read_text(), re.MULTILINE))


def _looked_for() -> dict[str, str]:
    """Each tool a test skips without (``shutil.which(...) is None`` and "not installed"),
    with the file that does."""
    found: dict[str, str] = {}
    pattern = re.compile(r'shutil\.which\("([\w.+-]+)"\) is None[^\n]*(?:\n[^\n]*)?not installed')
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_tool_a_test_needs_is_installed_by_dev_test() -> None:
    looked_for = _looked_for()
    assert {"docker", "kubectl", "aws", "dig", "curl", "tmux"} <= set(looked_for)  # the scan works
    missing = {name: where for name, where in looked_for.items()
               if name not in _apt_needed() and name not in ALWAYS_THERE}
    assert not missing, f"./dev test does not install (add an apt_need line): {missing}"
