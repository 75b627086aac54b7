"""Provides ``predeploy run``: run a checklist's checks (headless), record them, exit by verdict."""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from predeploy_tui.commands import (
    VARS_FILE_HELP,
    UsageError,
    existing_file,
    parse_vars,
    report_target,
    secret_values,
    with_vars_file,
)

if TYPE_CHECKING:
    from predeploy_tui.core.checklist import Checklist
    from predeploy_tui.core.session import Session
    from predeploy_tui.engine.session_file import Opened

HELP = "run the checks of a checklist or session without the UI; the exit code says the verdict"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("target", metavar="CHECKLIST_OR_SESSION",
                   help="a checklist YAML (starts a new session) or a session TOML")
    p.add_argument("--section", action="append", default=[], metavar="ID",
                   help="run only this section (repeatable)")
    p.add_argument("--item", action="append", default=[], metavar="KEY",
                   help="run only this item, section.item or a unique item id (repeatable)")
    p.add_argument("--headless", action="store_true", help="no UI (the default for now)")
    p.add_argument("--yes-actions", action="store_true",
                   help="run action items too (they are skipped otherwise)")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a checklist variable (repeatable); secret ones are read from "
                        "PREDEPLOY_VAR_<name> in the environment, never given here")
    p.add_argument("--vars", metavar="FILE", help=VARS_FILE_HELP)
    p.add_argument("--session", metavar="PATH",
                   help="where a new session is saved (default sessions/<checklist>-<version>-"
                        "<env>.toml, with -2, -3... when taken); a PATH that exists is refused")
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("--checks-only", action="store_true",
                   help="exit by the verdict of the checks alone, sign-offs left out; printed as "
                        "'checks only: ...' beside the release's verdict")
    p.add_argument("--force", action="store_true",
                   help="replace the --junit FILE when it exists (never a session file)")
    p.add_argument("--deployer", help="who runs the checks (default: git user.name, else login)")
    p.add_argument("--concurrency", type=positive_int, default=16, metavar="N",
                   help="local checks running at once (default 16); SSH checks are capped by "
                        "--channels-per-host and --handshakes instead")
    p.add_argument("--channels-per-host", type=positive_int, default=4, metavar="N",
                   help="commands running at once on one SSH host (default 4)")
    p.add_argument("--handshakes", type=positive_int, default=10, metavar="N",
                   help="SSH connections being set up at once (default 10)")


def positive_int(text: str) -> int:
    """An argument that must be a whole number of 1 or more (argparse reports it otherwise)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    return value


def is_session_file(path: Path) -> bool:
    """A session file (TOML) rather than a checklist (YAML)."""
    return path.suffix.lower() == ".toml"


def select(checklist: Checklist, sections: Sequence[str], items: Sequence[str]) -> list[str] | None:
    """The item keys chosen by --section / --item (None: everything); unknown ones are errors."""
    if not sections and not items:
        return None
    every = list(checklist.items())
    section_ids = {s.id for s in checklist.sections}
    keys: list[str] = []
    for sid in sections:
        if sid not in section_ids:
            raise UsageError(f"--section {sid}: no such section (sections: "
                             + ", ".join(sorted(section_ids)) + ")")
        keys += [i.key for i in every if i.section == sid]
    for wanted in items:
        exact = [i.key for i in every if i.key == wanted]
        by_id = [i.key for i in every if i.id == wanted]
        if exact:
            keys += exact
        elif len(by_id) == 1:
            keys += by_id
        elif by_id:
            raise UsageError(f"--item {wanted}: ambiguous, give one of " + ", ".join(by_id))
        else:
            raise UsageError(f"--item {wanted}: no such item (use section.item keys, e.g. "
                             f"{every[0].key if every else 'section.item'})")
    return list(dict.fromkeys(keys))


@dataclass
class Prepared:
    """Everything a run needs once the arguments are understood; the session's lock is held."""

    checklist: Checklist
    """The checklist."""
    opened: Opened
    """The session that receives the results, its file and its lock (released after the run)."""
    variables: dict[str, str]
    """Variable values for the checks (secret ones in clear)."""
    keys: list[str] | None = None
    """The items chosen with --section / --item (None: every check and action)."""

    @property
    def session(self) -> Session:
        """The session that receives the results."""
        return self.opened.session

    @property
    def path(self) -> Path:
        """The session file."""
        return self.opened.path


def prepare(args: argparse.Namespace, extra_vars: dict[str, str] | None = None) -> Prepared:
    """Open (locked) or create the session and work out the variables; UsageError for bad input.

    The lock is taken before the session is read or created and held until the caller's last
    write: a second writer is refused, saying who holds it.
    """
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.engine import session_file

    target = existing_file(args.target, "session" if args.target.endswith(".toml") else "checklist")
    given = parse_vars(args.var)
    if is_session_file(target):
        opened = session_file.open_existing(target, now=lambda: datetime.now(UTC), interrupt=False)
        try:
            session = opened.session
            located = session_file.locate_checklist(target, session.checklist_path,
                                                    session.checklist_sha256)
            checklist_path = located.path
            if located.note:
                from predeploy_tui.core.terminal import printable

                print(printable(f"{target}: {located.note}"), file=sys.stderr)
            if checklist_path is None or not checklist_path.exists():
                raise UsageError(f"{target}: its checklist {session.checklist_path} is not there")
            checklist = load_checklist(checklist_path)
            if checklist.sha256 != session.checklist_sha256:
                _bring_up_to_date(opened, checklist, checklist_path,
                                  args.deployer or session.header.get("deployer") or "")
            given = with_vars_file(args.vars, given, [v.name for v in checklist.variables],
                                   session.secret_variables)
            unknown = sorted(set(given) - {v.name for v in checklist.variables})
            if unknown:
                raise UsageError("unknown variable(s): " + ", ".join(unknown))
            secrets = secret_values(given, session.secret_variables)
            variables = {**session.variables, **given, **secrets, **(extra_vars or {})}
            keys = select(checklist, args.section, args.item)
            check_variables(checklist, variables, keys)
            # A check left "running" by a killed run is marked interrupted before new results.
            opened.interrupt_running(datetime.now(UTC))
        except BaseException:
            opened.release()
            raise
        return Prepared(checklist, opened, variables, keys)
    from predeploy_tui.commands.new import create

    checklist = load_checklist(target)
    given = with_vars_file(args.vars, given, [v.name for v in checklist.variables],
                           [v.name for v in checklist.variables if v.secret])
    secrets = secret_values(given, [v.name for v in checklist.variables if v.secret])
    values = {**given, **(extra_vars or {})}
    defaults = {v.name: v.default or "" for v in checklist.variables}
    keys = select(checklist, args.section, args.item)
    check_variables(checklist, {**defaults, **values, **secrets}, keys)
    created = create(checklist, target, variables=values, deployer=args.deployer,
                     session=Path(args.session) if args.session else None)
    return Prepared(checklist, created, {**defaults, **values, **secrets}, keys)


def _bring_up_to_date(opened: Opened, checklist: Checklist, checklist_path: Path, by: str) -> None:
    """Apply the checklist's drift to the session and save it, saying what changed.

    Without this, a result for an item added to the checklist would have no place in the
    session and be thrown away, and the verdict would not count it.
    """
    from predeploy_tui.core import store
    from predeploy_tui.core.drift import apply_drift

    found = apply_drift(opened.session, checklist, datetime.now(UTC), by=by)
    store.save(opened.session, opened.path)
    lines = found.lines()
    sys.stderr.write(f"predeploy: note: {checklist_path} changed since the session began"
                     + ("; the session now follows it:\n" if lines else "; no item changed\n"))
    for line in lines:
        sys.stderr.write(f"  {line}\n")


def check_variables(checklist: Checklist, variables: dict[str, str], keys: Sequence[str] | None) -> None:
    """Refuse (exit 2) before anything runs when a check names an unknown or unset variable."""
    from predeploy_tui.engine.runner import Runner
    from predeploy_tui.engine.template import TemplateError

    runner = Runner(checklist, variables, by="")
    for item in runner.runnable(keys):
        try:
            runner.resolve(item.key)
        except TemplateError as exc:
            raise UsageError(f"{item.key}: {exc}") from None


class StartUp:
    """Garbage collection held off while a run starts up, then resumed with what it loaded set aside.

    Start-up creates tens of thousands of objects that live as long as the process (modules,
    asyncssh's among them, the checklist, the session) and frees few: collecting during it is
    wasted work, and every full collection during the run would go through them all again. So
    collection is off until :meth:`over`, which moves every live object into the permanent
    generation (``gc.freeze``) and turns collection back on; :meth:`close` leaves the collector
    as it found it, so a caller in the same process (a test) sees no difference. A process that
    had frozen objects of its own, or turned collection off, is left alone.
    """

    def __init__(self) -> None:
        self._mine = gc.isenabled() and gc.get_freeze_count() == 0
        if self._mine:
            gc.disable()

    def over(self, checklist: Checklist) -> None:
        """Start-up is done: load the SSH transport if a check needs it, then collect again."""
        if not self._mine or gc.isenabled():
            return
        if any(item.check is not None and item.check.params.get("host")
               for item in checklist.items()):
            # Loaded by the first SSH check anyway; loaded now, its objects are set aside too.
            with contextlib.suppress(ImportError):  # the checks say why SSH is missing
                import predeploy_tui.engine.ssh  # noqa: F401
        gc.freeze()
        gc.enable()

    def close(self) -> None:
        """Collection on and nothing frozen, as before."""
        if self._mine:
            gc.unfreeze()
            gc.enable()


def main(args: argparse.Namespace) -> int:
    """Run, print results as they arrive, save them, print the verdict, exit by it."""
    import asyncio

    from predeploy_tui import paths

    startup = StartUp()
    try:
        target = Path(args.target)
        demo = False
        if "demo_url" not in parse_vars(args.var):
            try:
                demo = target.resolve() == paths.demo_checklist().resolve() or (
                    is_session_file(target) and target.exists()
                    and _session_checklist_is_demo(target))
            except OSError:
                demo = False
        return asyncio.run(_main(args, demo, startup))
    finally:
        startup.close()


def _session_checklist_is_demo(path: Path) -> bool:
    from predeploy_tui import paths
    from predeploy_tui.core import store
    from predeploy_tui.engine.session_file import checklist_file

    session = store.load(path)
    checklist = checklist_file(path, session.checklist_path, session.checklist_sha256)
    return checklist is not None and checklist.resolve() == paths.demo_checklist().resolve()


async def _main(args: argparse.Namespace, demo: bool, startup: StartUp) -> int:
    if demo:
        from predeploy_tui.demo_server import DemoServer

        async with DemoServer() as server:
            return await _run(args, {"demo_url": server.url}, startup)
    return await _run(args, {}, startup)


def _not_the_session(junit: Path | None, session: Path) -> None:
    """Refuse a --junit FILE that is the session this run just created."""
    if junit is not None and junit.resolve() == session.resolve():
        raise UsageError(f"--junit {junit}: is the session file; a report never replaces one "
                         "(choose another name)")


async def _run(args: argparse.Namespace, extra_vars: dict[str, str], startup: StartUp) -> int:
    from predeploy_tui.engine.headless import run_headless
    from predeploy_tui.engine.session_file import default_person

    junit = report_target(args.junit, args.force, "--junit") if args.junit else None
    prepared = prepare(args, extra_vars)
    try:
        _not_the_session(junit, Path(prepared.path))
        by = args.deployer or prepared.session.header.get("deployer") or default_person()
        print(f"Session: {prepared.path}")
        startup.over(prepared.checklist)
        verdict = await run_headless(prepared.checklist, prepared.session, prepared.path,
                                     prepared.variables, prepared.keys, by=by,
                                     yes_actions=args.yes_actions,
                                     max_concurrency=args.concurrency,
                                     handshake_cap=args.handshakes,
                                     channels_per_host=args.channels_per_host,
                                     checks_only=args.checks_only)
        if args.junit:
            try:
                from predeploy_tui.reports.junit import write_junit
            except ImportError as exc:
                raise UsageError(f"--junit: the JUnit report is not available ({exc})") from None
            try:
                write_junit(prepared.session, junit or Path(args.junit))
            except OSError as exc:
                raise UsageError(f"--junit {args.junit}: cannot write: {exc.strerror or exc}") \
                    from None
        return verdict.exit_code
    finally:
        prepared.opened.release()
