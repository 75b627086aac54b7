"""Every writer of a session holds its lock: concurrent run, sign, app and creation lose nothing.

Real ``predeploy`` processes race on one session file. Whatever a writer reported as done (a
result line printed, "signed", a note saved by the app) must be in the final file; a writer that
lost the race exits 2 with one line saying who holds the lock (or, for a creator, that the file
exists).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from predeploy_tui.core import store
from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session

ROOT = Path(__file__).resolve().parents[2]
PREDEPLOY = [sys.executable, "-m", "predeploy_tui.cli"]
ROUNDS = 2
ITEMS = ("a", "b", "c")

CHECKLIST = """\
id: race
title: Race
variables:
  version: {default: 1.0.0}
  gate: {default: ''}
sections:
  - id: s
    title: S
    groups:
      - title: G
        items:
          - {id: a, title: A, check: {type: shell, run: 'echo a'}}
          - {id: b, title: B, check: {type: shell, run: 'echo b'}}
          - {id: c, title: C, check: {type: shell, run: 'echo c'}}
          - id: gate
            title: Gate
            check:
              type: shell
              run: 'while [ ! -e ${gate} ]; do sleep 0.02; done; echo open'
              timeout: 60s
signoffs:
  - {role: engineering, title: Engineering, required: false}
"""

# The app's way to write (open_session takes the lock or opens read-only; the saver writes;
# run_app releases), without a terminal: it appends its name to an item's note.
APP_WRITER = textwrap.dedent("""\
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from predeploy_tui.engine.recorder import SessionSaver
    from predeploy_tui.tui.launch import open_session
    path, who = Path(sys.argv[1]), sys.argv[2]
    opened = open_session(path, person=who)
    if opened.lock is None:
        sys.stderr.write(f"predeploy: {opened.notice}\\n")
        sys.exit(2)
    try:
        now = datetime.now(UTC)
        note = opened.session.items["s.a"].note
        opened.session.set_note("s.a", (note + "\\n" if note else "") + f"note by {who}", now)
        saver = SessionSaver(opened.session, path, clock=lambda: datetime.now(UTC))
        saver.changed()
        assert saver.flush(), saver.error
    finally:
        opened.lock.release()
    print("noted")
""")


@dataclass
class Writer:
    """One racing process and what it is."""

    kind: str
    """creator, run, sign or app."""
    name: str
    """The person it writes as: unique, so its updates can be found in the file."""
    proc: subprocess.Popen[str]
    out: str = ""
    err: str = ""

    def finish(self) -> None:
        out, err = self.proc.communicate(timeout=120)
        self.out, self.err = self.out + out, err


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
            "PREDEPLOY_SESSIONS_DIR": str(tmp_path / "sessions")}


def _spawn(kind: str, name: str, argv: list[str], tmp_path: Path) -> Writer:
    proc = subprocess.Popen(argv, env=_env(tmp_path), cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    return Writer(kind, name, proc)


def _writer(kind: str, name: str, path: Path, tmp_path: Path, *extra: str) -> Writer:
    argv = {
        "run": [*PREDEPLOY, "run", str(path), "--deployer", name, *extra],
        "sign": [*PREDEPLOY, "sign", str(path), "--role", "engineering", "--name", name],
        "app": [sys.executable, "-c", APP_WRITER, str(path), name],
    }[kind]
    return _spawn(kind, name, argv, tmp_path)


def _printed_results(out: str) -> dict[str, Status]:
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2].startswith("s."):
            found[parts[2]] = Status(parts[1])
    return found


def _check(writers: list[Writer], final: Session) -> None:
    for w in writers:
        rc, why = w.proc.returncode, f"{w.kind} {w.name}: rc {w.proc.returncode}\n{w.out}{w.err}"
        if rc == 2:
            # Refused: one line, naming the holder (a creator may find the file made already).
            assert "Traceback" not in w.err, why
            assert w.err.count("\n") == 1, why
            assert ("being edited by" in w.err and "(pid " in w.err) or (
                w.kind == "creator" and "already exists; open it with `predeploy open" in w.err), why
            assert not _printed_results(w.out), why
            assert all(s.name != w.name for s in final.signoffs), why
            continue
        assert rc in (0, 3, 4), why  # done: its verdict is its exit code
        if w.kind in ("creator", "run"):
            printed = _printed_results(w.out)
            assert printed, why
            for key, status in printed.items():
                runs = [r for r in final.items[key].runs if r.by == w.name]
                assert [r.status for r in runs] == [status], why
        elif w.kind == "sign":
            assert "signed engineering as" in w.out, why
            assert [s.name for s in final.signoffs].count(w.name) == 1, why
        else:
            assert w.out.strip() == "noted", why
            assert f"note by {w.name}" in final.items["s.a"].note.splitlines(), why
    for state in final.items.values():  # no writer was taken for dead: nothing interrupted
        assert not any(r.summary.startswith("interrupted") for r in state.runs), state.key
        assert state.status is not Status.RUNNING, state.key


def test_concurrent_writers_of_one_session_lose_no_reported_update(tmp_path: Path) -> None:
    checklist = tmp_path / "race.yaml"
    checklist.write_text(CHECKLIST, encoding="utf-8")
    path, gate = tmp_path / "race.toml", tmp_path / "gate"

    def creator(name: str) -> Writer:
        return _spawn("creator", name, [*PREDEPLOY, "run", str(checklist), "--session", str(path),
                                        "--var", f"gate={gate}", "--deployer", name], tmp_path)

    # Given two creators of one explicit path, racing; the one that makes it holds its run open
    # on the gate check, after printing where its session is...
    creators = [creator(f"creator-{i}") for i in range(2)]
    writers: list[Writer] = []
    try:
        for c in creators:
            assert c.proc.stdout is not None
            c.out = c.proc.stdout.readline()  # "Session: ..." or "" once refused
        assert any(c.out.startswith("Session: ") for c in creators), [c.err for c in creators]
        # ...when a run of some items, a sign-off and the app try to write meanwhile, they are
        # refused, saying who holds the lock...
        during = [_writer("run", "run-during", path, tmp_path, "--item", "s.a", "--item", "s.b"),
                  _writer("sign", "sign-during", path, tmp_path),
                  _writer("app", "app-during", path, tmp_path)]
        for w in during:
            w.finish()
        writers += during
    finally:
        gate.touch()
        for c in creators:
            c.finish()
    writers += creators
    _check(writers, store.load(path))
    assert sum(c.proc.returncode != 2 for c in creators) == 1
    assert all(w.proc.returncode == 2 for w in during)
    # ...and when, round after round, every kind of writer starts at once on the file...
    for k in range(ROUNDS):
        rivals = [creator(f"creator-{k}")]
        rivals += [_writer(kind, f"{kind}-{k}{i}", path, tmp_path)
                   for i in range(2) for kind in ("run", "sign", "app")]
        for w in rivals:
            w.finish()
        assert rivals[0].proc.returncode == 2
        writers += rivals
    # ...then everything a writer reported as done is in the file, and each other one said who
    # held it (or that the file exists).
    _check(writers, store.load(path))
