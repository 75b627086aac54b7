"""Provides ansible-core in the bench's own virtual environment, created on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.context import BenchError, progress

REQUIREMENT = "ansible-core>=2.16"
"""What is installed: the controller alone, no collections (the benchmark uses ``raw``)."""


def ensure(folder: Path) -> Path:
    """The venv's bin folder, with ansible-playbook in it (installs it from PyPI the first time)."""
    bin_dir = folder / "bin"
    if (bin_dir / "ansible-playbook").exists():
        return bin_dir
    progress(f"installing {REQUIREMENT} into {folder} (first run only)")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True,
                       timeout=120, capture_output=True)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", REQUIREMENT], check=True, timeout=600,
                       capture_output=True)
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"could not install {REQUIREMENT}: "
                         + (exc.stderr or b"").decode(errors="replace").strip()[-300:]) from None
    except subprocess.TimeoutExpired:
        raise BenchError(f"installing {REQUIREMENT} took over 10 minutes") from None
    return bin_dir


def version(bin_dir: Path) -> str:
    """ansible-core's version, e.g. ``2.17.14``."""
    out = subprocess.run([str(bin_dir / "python"), "-c",
                          "import ansible.release as r; print(r.__version__)"],
                         capture_output=True, text=True, timeout=30, check=False)
    return out.stdout.strip() or "unknown"
