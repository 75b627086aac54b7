"""Provides the ``predeploy`` command: subcommands, and every known error as one line + exit code.

The exit codes are one table, :data:`EXIT_CODES`, printed by ``--help`` and in the README. A
reader that goes away (``| head -1``, a closed stdout) stops the printing, never the command:
results are still saved and the exit code is still the answer's.
Any OSError that reaches here is the environment (a read-only or full disk, a name too long, a
folder where a file belongs): one line and exit 2, like bad input.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import keyword
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO, cast

from predeploy_tui import __version__
from predeploy_tui.commands import COMMANDS, UsageError

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130
EXIT_INTERNAL = 70
"""An internal error (a bug): EX_SOFTWARE of sysexits.h, shared with no meaningful answer."""

EXIT_CODES = """\
exit codes:
  0    run: GO; verify: intact; any other command: done
  4    run: CONDITIONAL GO
  3    run: NO GO, or nothing observed yet (no check ran, no manual item settled)
  1    verify: changed after sign-off (stale), an approval tampered with, a bad signature
  2    bad input or environment: arguments, checklist, session file, a lock held by another
  70   internal error (a bug; PREDEPLOY_DEBUG=1 shows the traceback)
  130  interrupted
run answers for the release as show and the app do; with --item/--section for the items asked
(printed as partial), with --checks-only for the checks alone (printed as such). A closed stdout
or a broken pipe (| head -1) changes none of these codes; results are saved all the same."""
"""Every exit code, as ``predeploy --help`` and each subcommand's help print it."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def module_name(command: str) -> str:
    """The module of a subcommand: ``import`` lives in ``import_.py`` (a keyword)."""
    name = command.replace("-", "_")
    return f"{name}_" if keyword.iskeyword(name) else name


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with ``only`` that one.

    A command line that starts with a subcommand's name is parsed by that subcommand's parser
    alone (the rest of the line is all its own), so building the others, and importing their
    modules, would only slow down its start.
    """
    parser = _Parser(prog="predeploy", description="Pre-deployment checklists as recorded, "
                     "reviewable sessions.", epilog=EXIT_CODES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"predeploy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"predeploy_tui.commands.{module_name(name)}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP, epilog=EXIT_CODES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


class _Stdout:
    """Standard output that stops printing, not the command, once its reader has gone.

    A broken pipe (``| head -1``) or a closed stdout must not turn a NO GO into exit 0 or a
    traceback: the first failed write points the file descriptor at /dev/null (as the Python
    docs advise for SIGPIPE) so that later writes and the final flush succeed silently.
    """

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self.gone = stream is None
        """The reader went away (or there never was one): nothing more is printed."""

    def write(self, text: str) -> int:
        if not self.gone and self._stream is not None:
            try:
                return self._stream.write(text)
            except (BrokenPipeError, ValueError):
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.gone and self._stream is not None:
            try:
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                self._drop()

    def _drop(self) -> None:
        self.gone = True
        try:
            fd = self._stream.fileno() if self._stream is not None else -1
        except (OSError, ValueError):
            return  # not a real file (a test's capture): nothing is flushed at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)

    def isatty(self) -> bool:
        return not self.gone and self._stream is not None and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    stdout = sys.stdout
    guard = _Stdout(stdout)
    sys.stdout = cast(TextIO, guard)
    try:
        code = _main(argv)
        guard.flush()
        return code
    finally:
        sys.stdout = stdout


def _main(argv: Sequence[str] | None) -> int:
    from predeploy_tui.core.checklist import ChecklistError
    from predeploy_tui.core.session import SessionRuleError
    from predeploy_tui.core.store import SessionFileError, SessionLocked

    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list[0] if args_list and args_list[0] in COMMANDS else None)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args._module.main(args))
    except (ChecklistError, SessionFileError) as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_BAD_INPUT
    except (UsageError, SessionRuleError, SessionLocked) as exc:
        sys.stderr.write(f"predeploy: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("predeploy: interrupted\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        # The environment, not the program: a read-only or full disk, a name too long, a
        # folder where a file belongs. One line, exit 2, like bad input.
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"predeploy: {where}{exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    except Exception as exc:
        if os.environ.get("PREDEPLOY_DEBUG"):
            raise
        sys.stderr.write(f"predeploy: internal error: {type(exc).__name__}: {exc} "
                         "(set PREDEPLOY_DEBUG=1 for a traceback)\n")
        return EXIT_INTERNAL


def entry() -> NoReturn:
    """Console-script entry point.

    The process ends right after: every object still alive is set aside from the collector
    first (``gc.freeze``), so that shutting the interpreter down does not scan them all in its
    last collections, tens of milliseconds after a run that loaded asyncssh. Nothing is lost:
    the session is saved, locks are released and files closed before ``main`` returns; atexit
    handlers still run and output is still flushed, and memory goes back to the system anyway.
    """
    code = main()
    gc.freeze()
    raise SystemExit(code)


if __name__ == "__main__":
    entry()
