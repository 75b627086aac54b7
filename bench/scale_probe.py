"""Provides one measurement of session scale, run in its own process so its peak RSS is its own.

``python bench/scale_probe.py ITEMS FILE`` builds a session of ITEMS items (each with 3 runs; the
latest has 4 KB of output), saves it (core.store.dumps + the atomic write), saves it
again after a change to one item (the app's autosave), loads it back
(core.store.load), builds the app's checklist tree offscreen, and prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import ItemState, Session

OUTPUT_BYTES = 4096
"""Output kept on each item's latest run."""
SECTIONS = 10
GROUPS_PER_SECTION = 10


def build(items: int) -> Session:
    """A decided-looking session: every item ran three times (error, fail, then pass)."""
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    line = "2026-01-05T09:00:00Z node-07 disk /var/lib/postgresql 71% used, 412GiB free ok\n"
    output = (line * (OUTPUT_BYTES // len(line) + 1))[:OUTPUT_BYTES]
    session = Session("scale", "Scale benchmark", "scale.yaml", "0" * 64, t0, t0,
                      header={"date": "2026-01-05", "version": "1.2.3", "deployer": "Dee Ployer",
                              "reviewer": "Rae Viewer"})
    for i in range(items):
        section = f"s{i % SECTIONS}"
        key = f"{section}.item-{i}"
        at = t0 + timedelta(seconds=i)
        runs = [
            CheckResult(Status.ERROR, "connection refused", "ssh: connect: Connection refused\n",
                        255, at, at + timedelta(seconds=1), "db-1", by="Dee Ployer"),
            CheckResult(Status.FAIL, "disk 91% used > 80%", output[:512], 1,
                        at + timedelta(minutes=5), at + timedelta(minutes=5, seconds=2), "db-1",
                        by="Dee Ployer"),
            CheckResult(Status.PASS, "disk 71% used <= 80%", output, 0,
                        at + timedelta(minutes=30), at + timedelta(minutes=30, seconds=2), "db-1",
                        by="Dee Ployer", output_sha256="ab" * 32),
        ]
        session.items[key] = ItemState(
            key, f"Disk space on db-1 below 80% ({i})", "check", critical=i % 7 == 0,
            section=section, group=f"Group {(i // SECTIONS) % GROUPS_PER_SECTION}",
            check={"type": "ssh", "host": "db-1", "run": "df -h /var/lib/postgresql",
                   "timeout": 30.0, "expect": {"regex": r"(\d+)%", "le": 80}},
            status=Status.PASS, by="Dee Ployer", at=runs[-1].finished, runs=runs)
    return session


def resave(session: Session, path: Path) -> float:
    """Seconds of the save that follows a change to one item (what autosave does in the app).

    One item gets a fourth run and its status, as when a check is re-run; everything else is as
    the first save left it, so this is the save a session pays for each change it records.
    """
    state = session.items[next(iter(session.items))]
    at = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    run = CheckResult(Status.FAIL, "disk 85% used > 80%", state.runs[-1].output, 1, at,
                      at + timedelta(seconds=2), "db-1", by="Dee Ployer")
    start = time.perf_counter()
    state.runs.append(run)
    state.status, state.at = run.status, run.finished
    store.write_atomic(path, store.dumps(session))
    return time.perf_counter() - start


async def tree_build(session: Session) -> float | str:
    """Seconds to populate the app's checklist tree and paint it, offscreen."""
    try:
        from textual.app import App, ComposeResult

        from predeploy_tui.tui.widgets.checklist_tree import ChecklistTree
    except ImportError as exc:
        return f"the app's tree widget is not there ({exc})"
    titles = {f"s{i}": f"Section {i}" for i in range(SECTIONS)}

    class TreeOnly(App[None]):
        def compose(self) -> ComposeResult:
            yield ChecklistTree(session, titles, id="tree")

    app = TreeOnly()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.query_one(ChecklistTree)
        await pilot.pause()
        start = time.perf_counter()
        tree.build(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
        await pilot.pause()
        return time.perf_counter() - start


def main(argv: list[str]) -> None:
    """Build, save, load, tree; print the figures as JSON."""
    items, path = int(argv[0]), Path(argv[1])
    session = build(items)
    start = time.perf_counter()
    text = store.dumps(session)
    dumped = time.perf_counter()
    store.write_atomic(path, text)
    saved = time.perf_counter()
    del text
    autosave = resave(session, path)
    loading = time.perf_counter()
    loaded_session = store.load(path)
    loaded = time.perf_counter()
    assert len(loaded_session.items) == items
    tree = asyncio.run(tree_build(loaded_session))
    out: dict[str, Any] = {
        "dumps": dumped - start, "save": saved - start, "autosave": autosave,
        "load": loaded - loading,
        "tree": tree, "bytes": path.stat().st_size,
        # ru_maxrss is in KiB on Linux.
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
