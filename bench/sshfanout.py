"""Provides benchmark 1, SSH fan-out: predeploy against OpenSSH, Ansible and bare asyncssh.

100 commands, 5 on each of 20 ssh_config aliases of one loopback sshd, every tool timed as a whole
process in the same invocation. Targets: predeploy within 1.2x of the bare asyncssh floor, at
least 4x faster than Ansible, at least 25x faster than sequential OpenSSH.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from bench import ansible_env, workload
from bench.context import Bench, BenchError, progress, run_once
from bench.report import Figure, Section

NAME = "sshfanout"
TITLE = "1. SSH fan-out: 100 commands, 5 per host over 20 aliases (whole processes)"
SDKS = ("textual", "boto3", "botocore", "kubernetes", "psycopg", "pynvml", "redis", "httpx")
"""Modules that must not load in a headless run of ssh checks (asyncssh is expected)."""


def run(bench: Bench) -> Section:
    """Measure every tool on both workloads."""
    server = bench.server()
    folder = bench.work / "sshfanout"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = bench.env()
    section = Section(NAME, TITLE)
    predeploy = str(Path(bench.python).parent / "predeploy")
    ansible_bin: Path | None = None
    try:
        ansible_bin = ansible_env.ensure(bench.work / "ansible-venv")
    except BenchError as exc:
        section.notes.append(f"Ansible not measured: {exc}")
    for name, command in workload.COMMANDS.items():
        tag = f"`{command}`"
        per_item = workload.checklist_per_command(folder / f"per-command-{name}.yaml",
                                                  server.aliases, command)
        group = workload.checklist_host_group(folder / f"host-group-{name}.yaml",
                                              server.aliases, command)
        progress(f"sshfanout {tag}: predeploy run --headless and bare asyncssh, alternated")
        floor = [bench.python, str(Path(__file__).with_name("floor_asyncssh.py")),
                 str(server.ssh_config), str(server.known_hosts), str(workload.PER_HOST),
                 command, *server.aliases]
        _alternated(section, bench.runs, {
            f"predeploy run --headless, 100 items ({tag})":
                functools.partial(_headless, predeploy, per_item, folder, env),
            f"predeploy run --headless, 5 items x 20-host group ({tag})":
                functools.partial(_headless, predeploy, group, folder, env),
            f"bare asyncssh script ({tag})": functools.partial(_timed, floor, env, 120)})

        progress(f"sshfanout {tag}: OpenSSH ControlMaster")
        cold, warm = _controlmaster(bench, folder, command, env)
        section.figures += [Figure(f"OpenSSH ControlMaster x20 parallel, cold ({tag})", cold),
                            Figure(f"OpenSSH ControlMaster x20 parallel, warm ({tag})", warm)]

        if ansible_bin is not None:
            progress(f"sshfanout {tag}: ansible-playbook")
            _measure(section, f"ansible-playbook 5 raw tasks, forks 20, pipelining ({tag})",
                     bench.runs, functools.partial(_ansible, ansible_bin, folder, command,
                                                   server.ssh_config, server.aliases, env))

        progress(f"sshfanout {tag}: sequential OpenSSH ({bench.slow_runs} runs of 100 ssh)")
        script = workload.sequential_script(folder / f"sequential-{name}.sh", server.ssh_config,
                                            server.aliases, command)
        _measure(section, f"sequential OpenSSH, new connection per command ({tag})",
                 bench.slow_runs, functools.partial(_timed, ["sh", str(script)], env, 300))

        ours = f"predeploy run --headless, 100 items ({tag})"
        section.compare(f"predeploy / bare asyncssh ({tag})", ours, f"bare asyncssh script ({tag})",
                        "<= 1.2", lambda v: v <= 1.2)
        section.compare(f"predeploy host group / bare asyncssh ({tag})",
                        f"predeploy run --headless, 5 items x 20-host group ({tag})",
                        f"bare asyncssh script ({tag})", "<= 1.2", lambda v: v <= 1.2)
        section.compare(f"Ansible / predeploy ({tag})",
                        f"ansible-playbook 5 raw tasks, forks 20, pipelining ({tag})", ours,
                        ">= 4", lambda v: v >= 4)
        section.compare(f"sequential OpenSSH / predeploy ({tag})",
                        f"sequential OpenSSH, new connection per command ({tag})", ours,
                        ">= 25", lambda v: v >= 25)
        section.compare(f"ControlMaster cold / predeploy ({tag})",
                        f"OpenSSH ControlMaster x20 parallel, cold ({tag})", ours)
        section.compare(f"ControlMaster warm / predeploy ({tag})",
                        f"OpenSSH ControlMaster x20 parallel, warm ({tag})", ours)
    section.notes.append(_textual_probe(bench, predeploy, folder, env))
    return section


def _measure(section: Section, label: str, runs: int, once: Callable[[], float]) -> None:
    samples: list[float] = []
    try:
        for _ in range(runs):
            samples.append(once())
    except BenchError as exc:
        section.notes.append(f"{label}: failed: {exc}")
    section.figures.append(Figure(label, samples))


def _alternated(section: Section, runs: int, measures: dict[str, Callable[[], float]]) -> None:
    """Figures whose ratios are targets, measured in turn (a, b, c, a, b, c, ...), so that a
    machine that slows down or speeds up during the runs weighs on each of them alike."""
    samples: dict[str, list[float]] = {label: [] for label in measures}
    failed: set[str] = set()
    for _ in range(runs):
        for label, once in measures.items():
            if label in failed:
                continue
            try:
                samples[label].append(once())
            except BenchError as exc:
                failed.add(label)
                section.notes.append(f"{label}: failed: {exc}")
    section.figures += [Figure(label, values) for label, values in samples.items()]


def _timed(argv: list[str], env: dict[str, str], timeout: float) -> float:
    return run_once(argv, env=env, timeout=timeout)[0]


def _headless(predeploy: str, checklist: Path, folder: Path, env: dict[str, str]) -> float:
    """One timed ``predeploy run --headless`` into a fresh session file, checked afterwards."""
    session = folder / f"session-{checklist.stem}-{uuid.uuid4().hex[:8]}.toml"
    elapsed, proc = run_once([predeploy, "run", str(checklist), "--headless", "--session",
                              str(session)], env=env, timeout=120, ok=(0, 3, 4))
    _all_passed(session, proc)
    session.unlink()
    return elapsed


def _all_passed(session: Path, proc: subprocess.CompletedProcess[str]) -> None:
    """The run did the work: every item of the saved session passed (else BenchError)."""
    text = session.read_text() if session.exists() else ""
    if not text:
        raise BenchError(f"predeploy run wrote no session at {session}: "
                         + (proc.stderr or proc.stdout).strip()[-300:])
    statuses = re.findall(r'^status = "([^"]+)"', text, re.MULTILINE)
    bad = [s for s in statuses if s != "pass"]
    if bad:
        raise BenchError(f"predeploy run: {len(bad)} results did not pass ({bad[0]}): "
                         + (proc.stderr or proc.stdout).strip()[-300:])


def _controlmaster(bench: Bench, folder: Path, command: str,
                   env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Cold (no masters) then warm (masters left by the cold run), once per sample."""
    server = bench.server()
    cold: list[float] = []
    warm: list[float] = []
    for i in range(bench.runs):
        # A short path: ControlPath must fit in a unix socket name (108 bytes).
        control = Path(f"/tmp/pdb-cm-{os.getpid()}-{i}")
        shutil.rmtree(control, ignore_errors=True)
        control.mkdir(mode=0o700)
        script = workload.controlmaster_script(folder / "controlmaster.sh", server.ssh_config,
                                               control, server.aliases, command)
        try:
            cold.append(run_once(["sh", str(script)], env=env, timeout=120)[0])
            warm.append(run_once(["sh", str(script)], env=env, timeout=120)[0])
        finally:
            for argv in workload.controlmaster_exit(server.ssh_config, control, server.aliases):
                subprocess.run(argv, env=env, capture_output=True, timeout=10, check=False)
            shutil.rmtree(control, ignore_errors=True)
    return cold, warm


def _ansible(bin_dir: Path, folder: Path, command: str, ssh_config: Path, aliases: list[str],
             env: dict[str, str]) -> float:
    inventory, play = workload.playbook(folder / "ansible", aliases, command)
    control = Path(f"/tmp/pdb-ans-{os.getpid()}")
    shutil.rmtree(control, ignore_errors=True)
    control.mkdir(mode=0o700)
    ansible_env_vars = {
        **env,
        "ANSIBLE_CONFIG": str(folder / "ansible" / "none.cfg"),
        "ANSIBLE_HOME": str(folder / "ansible" / "home"),
        "ANSIBLE_LOCAL_TEMP": str(folder / "ansible" / "tmp"),
        "ANSIBLE_FORKS": "20",
        "ANSIBLE_PIPELINING": "True",
        # Ansible's own default ssh_args (ControlMaster, ControlPersist 60s) plus our config.
        "ANSIBLE_SSH_ARGS": f"-F {ssh_config} -C -o ControlMaster=auto -o ControlPersist=60s",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }
    try:
        elapsed, proc = run_once([str(bin_dir / "ansible-playbook"), "-i", str(inventory),
                                  str(play), "-f", "20"], env=ansible_env_vars, timeout=180)
        if f"ok={workload.PER_HOST}" not in proc.stdout:
            raise BenchError("ansible-playbook did not run every task: " + proc.stdout[-300:])
    finally:
        for a in aliases:
            subprocess.run(["ssh", "-F", str(ssh_config), "-o", f"ControlPath={control}/%C", "-O",
                            "exit", a], env=env, capture_output=True, timeout=10, check=False)
        shutil.rmtree(control, ignore_errors=True)
    return elapsed


def _textual_probe(bench: Bench, predeploy: str, folder: Path, env: dict[str, str]) -> str:
    """Which of the SDKs (and Textual) a headless run of ssh checks imports."""
    checklist = folder / "per-command-true.yaml"
    session = folder / "session-importtime.toml"
    try:
        _, proc = run_once([bench.python, "-X", "importtime", predeploy, "run", str(checklist),
                            "--headless", "--session", str(session)], env=env, timeout=120,
                           ok=(0, 3, 4))
    except BenchError as exc:
        return f"headless import probe failed: {exc}"
    loaded = _top_modules(proc.stderr)
    found = [m for m in SDKS if m in loaded]
    verdict = "does not import Textual" if "textual" not in found else "**imports Textual**"
    return (f"`predeploy run --headless` of ssh checks {verdict}; of the SDKs it loads: "
            + (", ".join(found) if found else "none") + "; asyncssh "
            + ("loaded (expected: ssh checks ran)" if "asyncssh" in loaded else "not loaded"))


def _top_modules(importtime: str) -> set[str]:
    """Top-level package names in ``-X importtime`` output."""
    names = set()
    for line in importtime.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "package":
                names.add(name.split(".")[0])
    return names
