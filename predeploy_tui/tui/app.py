"""Provides the terminal app: screens, global keys, saving, and the link between runs and the UI."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from predeploy_tui.core import integrity
from predeploy_tui.core.lock import SessionLocked
from predeploy_tui.core.provenance import deployer_code_changes
from predeploy_tui.core.session import SessionRuleError
from predeploy_tui.core.verdict import Verdict, suggest
from predeploy_tui.core.vocab import Mode
from predeploy_tui.engine.recorder import SessionSaver
from predeploy_tui.tui import messages
from predeploy_tui.tui.keymap import keymap_problems
from predeploy_tui.tui.pauses import settle_startup
from predeploy_tui.tui.record import ReleaseRecord
from predeploy_tui.tui.runs import RunControl
from predeploy_tui.tui.screens.main import MainScreen
from predeploy_tui.tui.state import Clock, NewSessionAnswers, OpenSession, utc_now
from predeploy_tui.tui.state import NewSessionRequest as NewSessionRequest

# The screens the app opens later are imported when first opened: start-up imports only what
# the first screen shows.
if TYPE_CHECKING:
    from predeploy_tui.core.session import Session
    from predeploy_tui.engine.runner import ActionRequest

TICK = 0.1
"""Seconds between UI refreshes while things change (output is appended in these batches)."""
RUN_REDRAW_EVERY = 0.3
"""Seconds between redraws of the tree and header while checks run (output is not held back)."""
SAVE_EVERY = 0.25
"""Seconds between save checks: a change reaches the file within a second (see recorder.BUSY_GAP)."""


class PredeployApp(App[int]):
    """predeploy: work through a checklist, record everything, decide."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "predeploy"
    BINDINGS: ClassVar[list[BindingType]] = [
        *ReleaseRecord.BINDINGS,
        Binding("question_mark,f1", "help", "Help", id="app.help",
                tooltip="Show or hide the keys of this screen"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Save and quit (asks if checks run)"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit_now", show=False, priority=True,
                tooltip="Save and quit (asks if checks run)"),
    ]

    def __init__(self, opened: OpenSession | None = None, *, new: NewSessionRequest | None = None,
                 clock: Clock = utc_now, keymap: dict[str, str] | None = None,
                 runner_options: dict[str, object] | None = None) -> None:
        super().__init__()
        assert opened is not None or new is not None, "open a session or start a new one"
        self.clock = clock
        self.new = new
        self.keymap = dict(keymap or {})
        self.runner_options = runner_options
        self.section_titles: dict[str, str] = {}
        self._targets: dict[str, str] = {}
        self._stale: tuple[int, list[str], bool] = (-1, [], False)
        self._generation = 0
        self._view_dirty = self._output_dirty = self._writing = False
        self._redrawn_at = 0.0
        self._opened: OpenSession | None = None
        if opened is not None:
            self._adopt(opened)

    @property
    def has_session(self) -> bool:
        """Whether a session is open (``predeploy new`` shows its form first)."""
        return self._opened is not None

    @property
    def opened(self) -> OpenSession:
        """The open session; only once ``has_session``."""
        if self._opened is None:
            raise RuntimeError("no session is open yet")
        return self._opened

    def _adopt(self, opened: OpenSession) -> None:
        self._opened = opened
        self.saver = SessionSaver(opened.session, opened.path, clock=self.clock,
                                  enabled=opened.mode != Mode.READ_ONLY)
        self.runs = RunControl(self, opened, self.saver, self.clock, self._confirm,
                               self.runner_options)
        self.record = ReleaseRecord(self, opened, self.saver, self.clock, changed=self.changed,
                                    verdict=self.verdict, redraw=self._redraw)
        # The session records its section titles, so a session whose checklist is gone reads
        # with real titles; a checklist at hand has the last word.
        self.section_titles = {**opened.session.section_titles, **(
            {s.id: s.title for s in opened.checklist.sections} if opened.checklist else {})}
        self.sub_title = str(opened.path or "")

    # -- lifecycle -----------------------------------------------------------------------------

    async def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
            for problem in keymap_problems(self.keymap):
                self.notify(problem, severity="error", timeout=15)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._hang_up)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (tests) or not a Unix loop: nothing to hook
        self.set_interval(TICK, self._tick, name="refresh")
        self.set_interval(SAVE_EVERY, self._save_tick, name="autosave")
        self.call_after_refresh(settle_startup)
        if self.new is not None and not self.has_session:
            if self.new.prepare is not None:
                self.new.variables.update(await self.new.prepare())
            from predeploy_tui.tui.screens.new_session import NewSessionScreen

            today = self.clock().astimezone().date()
            self.push_screen(NewSessionScreen(self.new.checklist, today, self.new.deployer,
                                              self.new.reviewer, self.new.variables,
                                              self.new.major), self._created)
        else:
            self.push_screen(MainScreen(self))
            self._ask_secrets()

    def _created(self, answers: NewSessionAnswers | None) -> None:
        if answers is None or self.new is None:
            return
        try:
            opened = self.new.create(answers)
        except (SessionRuleError, SessionLocked, OSError) as exc:  # OSError: SessionExists too
            from predeploy_tui.tui.screens.new_session import NewSessionScreen

            self.notify(str(exc), severity="error", timeout=10)
            self.push_screen(NewSessionScreen(self.new.checklist, self.clock().date(),
                                              answers.header["deployer"], answers.header["reviewer"],
                                              answers.variables, answers.major), self._created)
            return
        self._adopt(opened)
        self.saver.last_saved = self.clock()
        self.push_screen(MainScreen(self))

    def _ask_secrets(self) -> None:
        """A reopened session stores secret variables as ``***``: ask for them before checks run."""
        opened = self.opened
        if not opened.can_run or opened.checklist is None:
            return
        missing = [v for v in opened.checklist.variables
                   if v.secret and v.name in opened.session.secret_variables
                   and not opened.variables.get(v.name)]
        if missing:
            from predeploy_tui.tui.screens.secrets import SecretsDialog

            self.push_screen(SecretsDialog(missing), self._secrets_given)

    def _secrets_given(self, values: dict[str, str] | None) -> None:
        if values and self.runs.use_variables(values):
            self._targets.clear()
            self._view_dirty = True

    def _hang_up(self) -> None:
        """SIGHUP (a dropped SSH session) or SIGTERM: save what we have and leave cleanly."""
        self.call_later(self.shut_down)

    async def shut_down(self) -> None:
        """Cancel runs, write the session, release the lock, exit."""
        if self.has_session:
            await self.runs.close()
            for worker in [w for w in self.workers if w.group == "save"]:
                await worker.wait()
            self.saver.flush()
            if self.opened.lock is not None:
                self.opened.lock.release()
        if self.new is not None and self.new.cleanup is not None:
            await self.new.cleanup()
        self.exit(0)

    async def action_quit(self) -> None:
        """Quit; with checks running, ask first (the answer arrives later, never awaited here)."""
        running = len(self.runs.running) if self.has_session else 0
        if not running:
            await self.shut_down()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.shut_down()

        from predeploy_tui.tui.screens.dialogs import ConfirmQuit

        self.push_screen(ConfirmQuit(running), answered)

    # -- the session ---------------------------------------------------------------------------

    def changed(self) -> None:
        """The session changed: save soon, redraw on the next tick."""
        self._generation += 1
        self.saver.changed()
        self._view_dirty = True

    def verdict(self, now: datetime) -> Verdict:
        """The suggestion at ``now``, with stale sign-offs counted (re-hashed only after changes)."""
        session = self.opened.session
        if self._stale[0] != self._generation:
            self._stale = (self._generation, integrity.stale_signoffs(session) if session.signoffs
                           else [], integrity.decision_stale(session))
        return suggest(session, now, stale_signoffs=self._stale[1])

    @property
    def stale_approvals(self) -> tuple[list[str], bool]:
        """Roles whose sign-off is stale, and whether the decision is (as of the last verdict)."""
        return self._stale[1], self._stale[2]

    def target(self, key: str) -> str:
        """The check of an item as it will run (cached: variables do not change in a session)."""
        if key not in self._targets:
            self._targets[key] = self.runs.target(key)
        return self._targets[key]

    def target_if_ready(self, key: str) -> str | None:
        """The item's check line if it costs nothing now; None while the engine is not made yet.

        Making the engine imports it (tens of milliseconds), so the first screen paints first
        and the command line follows right after.
        """
        if key in self._targets or self.runs.engine_made:
            return self.target(key)
        return None

    def edit_note(self, key: str, text: str) -> None:
        """Save the note (the reviewer's note in review mode) as it is typed."""
        if self.opened.mode == Mode.REVIEW:
            self.opened.session.set_review_note(key, text, self.clock())
        elif self.opened.can_edit:
            self.opened.session.set_note(key, text, self.clock())
        else:
            return
        self.changed()

    # -- running -------------------------------------------------------------------------------

    def show_plan(self, keys: Sequence[str] | None, title: str) -> None:
        """Show what would run, then run what was chosen."""
        try:
            planned = self.runs.plan(keys)
        except Exception as exc:  # a template error in one check must not take the app down
            self.notify(f"cannot plan: {exc}", severity="error")
            return
        if not planned:
            self.notify("Nothing to run here")
            return
        label = "all" if keys is None else title.removeprefix("Run ").lower()
        from predeploy_tui.tui.screens.plan import PlanScreen

        self.push_screen(PlanScreen(planned, title),
                         lambda chosen: self.start_run(chosen, label) if chosen else None)

    def start_run(self, keys: Sequence[str], label: str) -> None:
        """Start a run of ``keys`` in its own worker; a reviewer is asked first when the site code
        behind the deployer's results changed since they ran (showing both hashes)."""
        opened = self.opened
        if opened.mode is Mode.REVIEW and opened.checklist is not None:
            wanted = set(keys)
            changed = deployer_code_changes(
                (s for s in opened.session.items.values() if s.key in wanted), opened.checklist.folder)
            if changed:
                from predeploy_tui.tui.screens.dialogs import ConfirmChangedCode

                self.push_screen(ConfirmChangedCode([c.line() for c in changed]),
                                 lambda yes: self._start(keys, label) if yes else None)
                return
        self._start(keys, label)

    def _start(self, keys: Sequence[str], label: str) -> None:
        if self.runs.start(keys, label) is None:
            self.notify("Already running" if self.opened.can_run else
                        self.opened.notice or "Checks cannot run here", severity="warning")
        self._view_dirty = True

    def _confirm(self, request: ActionRequest) -> asyncio.Future[bool]:
        from predeploy_tui.tui.screens.dialogs import ConfirmAction

        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        screen = ConfirmAction(request.title, request.key, request.host, request.command)

        def done(yes: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(yes))

        self.push_screen(screen, done)
        return answer

    @on(messages.CheckStarted)
    @on(messages.CheckFinished)
    @on(messages.SessionChanged)
    def _check_moved(self) -> None:
        self._generation += 1
        self._view_dirty = True

    @on(messages.OutputArrived)
    def _output(self) -> None:
        self.runs.output_seen()
        self._output_dirty = True

    @on(messages.RunFinished)
    def _run_finished(self, event: messages.RunFinished) -> None:
        self._view_dirty = True
        if len(event.keys) > 1:
            self.notify(f"Run finished: {len(event.keys)} item(s)", timeout=3)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure surfaces here, by group."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error or RuntimeError("unknown")
        if worker.group == "runs":
            self.runs.failed(worker.name, error)
            self.notify(f"{worker.name} failed: {error}", severity="error", timeout=10)
        elif worker.group == "save":
            self.saver.error = f"save failed: {error}"
        elif worker.group in ("compare", "commit"):
            self.notify(f"{worker.name} failed: {error}", severity="error", timeout=10)
        self._view_dirty = True

    # -- ticking -------------------------------------------------------------------------------

    def _tick(self) -> None:
        main = self.screen_stack[1] if len(self.screen_stack) > 1 else None
        # While the app shuts down its screens lose their widgets before this timer stops.
        if not isinstance(main, MainScreen) or not self.is_running:
            return
        if self._output_dirty:
            self._output_dirty = False
            main.flush_output()
        if main.next_change is not None and self.clock() > main.next_change:
            self._view_dirty = True  # a pass went stale or a waiver ran out just now
        if self._view_dirty:
            now = time.monotonic()
            # While checks run, statuses change by the hundred: redrawing the tree and header
            # for each tick's handful costs the keys their turn, so those redraws are spaced.
            if self.runs.running and now - self._redrawn_at < RUN_REDRAW_EVERY:
                return
            self._view_dirty = False
            self._redrawn_at = now
            main.redraw()

    def _save_tick(self) -> None:
        if not self.has_session or self._writing \
                or not self.saver.due(busy=bool(self.runs.running)):
            return
        # The snapshot is taken here, on the loop: one moment of the session, never an item
        # caught halfway through a change (a render of the live session on the thread could
        # be, and a kill then would leave that file). Rendering it (tens of milliseconds with
        # 200 outputs) and the write (temp file, fsync, rename) go to the thread.
        copied = self.saver.take()
        if copied is None:
            return
        self._writing = True
        self.run_worker(partial(self._write, copied), thread=True, group="save",
                        name="save session", description=str(self.opened.path),
                        exit_on_error=False)

    def _write(self, copied: Session) -> None:
        try:
            try:
                text = self.saver.render_copy(copied)
            except Exception as exc:  # the change stays pending: the next tick tries again
                self.call_from_thread(self.saver.failed,
                                      f"save failed: {type(exc).__name__}: {exc}")
                return
            self.saver.write(text)
        finally:
            self.call_from_thread(self._written)

    def _written(self) -> None:
        self._writing = False
        self.saver.saved(self.clock())
        self.post_message(messages.SessionSaved(self.clock()))
        self._view_dirty = True

    # -- global screens ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The record's keys need a session; they stay off while a dialog is open."""
        if action in ReleaseRecord.ACTIONS:
            return self.has_session and isinstance(self.screen, MainScreen)
        return True

    def action_signoffs(self) -> None:
        """Open the sign-off screen."""
        self.record.signoffs()

    def action_decision(self) -> None:
        """Open the decision screen."""
        self.record.decision()

    def action_compare(self) -> None:
        """Compare with an earlier session file."""
        self.record.compare()

    async def action_commit(self) -> None:
        """Save now, then git-commit the session file."""
        await self.record.commit()

    @on(messages.JumpToItem)
    def _jump(self, event: messages.JumpToItem) -> None:
        if isinstance(self.screen, MainScreen):
            self.screen.jump_to(event.key)

    def _redraw(self) -> None:
        self._view_dirty = True

    def action_help(self) -> None:
        """Show the keys that work here: the screen's own first, then the focused widget's."""
        from predeploy_tui.tui.screens.keys import KeysScreen, keys_text

        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(keys_text(self, self.screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every key that applies here, with its key and id."""
        from predeploy_tui.tui.screens.keys import palette_commands

        yield from super().get_system_commands(screen)
        yield from palette_commands(self, screen)
