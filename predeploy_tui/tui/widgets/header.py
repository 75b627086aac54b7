"""Provides the session header: checklist, version, environment, progress, counts, verdict, file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session
from predeploy_tui.core.verdict import Verdict
from predeploy_tui.core.vocab import Mode
from predeploy_tui.tui.look import STATUS_STYLE, VERDICT_STYLE, local_time, update_static

_COUNT_ORDER = (Status.PASS, Status.DONE, Status.WARN, Status.FAIL, Status.ERROR, Status.BLOCKED,
                Status.STALE, Status.WAIVED, Status.NA, Status.SKIPPED, Status.RUNNING,
                Status.PENDING)


class SessionHeader(Vertical):
    """Two lines at the top: what is being deployed and where the session stands."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="header-top"):
            yield Static(id="headline")
            yield ProgressBar(id="progress", show_eta=False)
        yield Static(id="standing")

    def show(self, session: Session, now: datetime, verdict: Verdict, *, path: Path | None,
             saved: datetime | None, mode: Mode, notice: str, run_done: int, run_total: int,
             save_error: str = "", stale: tuple[list[str], bool] = ([], False), view: str = "all",
             person: str = "") -> None:
        """Redraw from the session. The bar has one meaning: items settled of all items (a run's
        own progress is the ``run_done``/``run_total`` figure beside the counts)."""
        env = session.variables.get("env", "")
        head = Text(f"[{mode}] ", style="reverse") if mode != Mode.EDIT else Text()
        if person:
            head.append(f"as {person}  ", style="dim")
        head.append(session.checklist_title, style="bold")
        head.append(f"  v{session.header.get('version') or '?'}")
        if env:
            head.append(f"  {env}", style="bold yellow" if env == "production" else "")
        if session.flags.get("major"):
            head.append("  major", style="bold")
        if notice:
            head.append(f"  {notice}", style="italic")
        # One line each, sized by the stylesheet: new text never needs a layout pass.
        update_static(self.query_one("#headline", Static), head, layout=False)
        counts = session.counts(now)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(1, len(session.items)),
                   progress=sum(n for s, n in counts.items() if s.settled))
        line = Text()
        if run_total:
            line.append(f"running {run_done}/{run_total}  ", style="bold")
        for status in _COUNT_ORDER:
            if counts.get(status):
                line.append(f"{status.glyph}{counts[status]} ", style=STATUS_STYLE[status])
        line.append(" suggested ")
        line.append(verdict.label, style=VERDICT_STYLE.get(verdict.status, "dim"))
        line.append(f" (risk: {verdict.risk})")
        stale_roles, stale_decision = stale
        if stale_roles:
            line.append(f"  ◷ stale sign-off: {', '.join(stale_roles)}", style="bold yellow")
        if session.decision.status:
            line.append("  decided ")
            line.append(session.decision.status, style=VERDICT_STYLE.get(session.decision.status, ""))
            if stale_decision:
                line.append(" ◷ stale (changed since)", style="bold yellow")
        if view != "all":
            line.append(f"  view: {view}", style="bold")
        if path is not None:
            line.append(f"  {path.name}", style="dim")
            if save_error:
                line.append(f" {save_error}", style="bold red")
            elif saved is not None:
                line.append(f" saved {local_time(saved)}", style="dim")
            elif mode == Mode.READ_ONLY:
                line.append(" not saved (read-only)", style="dim")
        update_static(self.query_one("#standing", Static), line, layout=False)
