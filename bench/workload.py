"""Provides the SSH fan-out workload as each tool takes it: checklists, shell scripts, a playbook.

The work is the same everywhere: ``PER_HOST`` copies of one command on each of the 20 host
aliases of the loopback sshd, 100 commands in all.
"""

from __future__ import annotations

import shlex
from pathlib import Path

PER_HOST = 5
"""Commands per host."""
COMMANDS = {"sleep": "sleep 0.1; echo ok", "true": "true"}
"""The two workloads: a short command that prints, and pure overhead."""


def checklist_per_command(path: Path, aliases: list[str], command: str) -> Path:
    """A checklist of one ssh check per command: 100 items, 5 on each host."""
    lines = ["id: bench-fanout", "title: SSH fan-out benchmark, one item per command",
             "hosts:"]
    lines += [f"  {a}: {{}}" for a in aliases]
    lines += ["sections:", "  - id: fanout", "    title: Fan-out", "    groups:",
              "      - title: Commands", "        items:"]
    for a in aliases:
        for i in range(1, PER_HOST + 1):
            lines += [f"          - id: {a}-{i}", f"            title: {a} command {i}",
                      f"            check: {{type: ssh, host: {a}, run: {_yaml(command)}, "
                      "timeout: 30s}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def checklist_host_group(path: Path, aliases: list[str], command: str,
                         items: int = PER_HOST) -> Path:
    """A checklist of ``items`` items (5), each over a host group of all the aliases."""
    lines = ["id: bench-fanout-group", "title: SSH fan-out benchmark, items over a host group",
             "hosts:"]
    lines += [f"  {a}: {{}}" for a in aliases]
    lines += ["host_groups:", "  fleet:", "    hosts: [" + ", ".join(aliases) + "]",
              "sections:", "  - id: fanout", "    title: Fan-out", "    groups:",
              "      - title: Commands", "        items:"]
    # A host's clock starts when its check does, before its handshake waits its turn (10 at a
    # time): 200 hosts on a busy machine get more than 20 do.
    timeout = "30s" if len(aliases) <= 20 else "120s"
    for i in range(1, items + 1):
        lines += [f"          - id: command-{i}", f"            title: command {i} on every host",
                  f"            check: {{type: ssh, host: fleet, run: {_yaml(command)}, "
                  f"timeout: {timeout}}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _yaml(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sequential_script(path: Path, ssh_config: Path, aliases: list[str], command: str) -> Path:
    """What pasting the commands does: ssh per command, a new connection each, one after another."""
    lines = ["#!/bin/sh", "set -e"]
    for a in aliases:
        lines += [f"ssh -F {shlex.quote(str(ssh_config))} {a} {shlex.quote(command)} >/dev/null"] \
            * PER_HOST
    path.write_text("\n".join(lines) + "\n")
    return path


def controlmaster_script(path: Path, ssh_config: Path, control_dir: Path, aliases: list[str],
                         command: str) -> Path:
    """OpenSSH multiplexing: the 20 hosts in parallel, each host's commands over one master."""
    opts = (f"-F {shlex.quote(str(ssh_config))} -o ControlMaster=auto "
            f"-o ControlPath={shlex.quote(str(control_dir))}/%C -o ControlPersist=120")
    lines = ["#!/bin/sh", "pids="]
    for a in aliases:
        body = "; ".join([f"ssh {opts} {a} {shlex.quote(command)} >/dev/null "
                          f"2>>{shlex.quote(str(control_dir))}/errors || exit 1"] * PER_HOST)
        lines += [f"( {body} ) &", 'pids="$pids $!"']
    lines += ["status=0", 'for p in $pids; do wait "$p" || status=1; done', "exit $status"]
    path.write_text("\n".join(lines) + "\n")
    return path


def controlmaster_exit(ssh_config: Path, control_dir: Path, aliases: list[str]) -> list[list[str]]:
    """The commands that stop the masters (not timed)."""
    return [["ssh", "-F", str(ssh_config), "-o", f"ControlPath={control_dir}/%C", "-O", "exit", a]
            for a in aliases]


def playbook(folder: Path, aliases: list[str], command: str) -> tuple[Path, Path]:
    """An Ansible inventory of the aliases and a playbook of 5 ``raw`` tasks."""
    folder.mkdir(parents=True, exist_ok=True)
    inventory = folder / "inventory.ini"
    inventory.write_text("[bench]\n" + "\n".join(aliases) + "\n")
    play = folder / "play.yml"
    tasks = "".join(f"    - name: command {i}\n      raw: {_yaml(command)}\n"
                    for i in range(1, PER_HOST + 1))
    play.write_text(f"- hosts: bench\n  gather_facts: false\n  tasks:\n{tasks}")
    return inventory, play
