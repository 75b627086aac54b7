"""Provides the ``predeploy`` command: subcommands, and every known error as one line + exit code.

Exit codes: 0 fine, 1 internal error, 2 bad input or environment (a read-only or full disk,
a name too long: any OSError); ``run`` adds 3 NO GO and 4 CONDITIONAL GO
(``verify`` uses 1 for "changed after sign-off").
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from predeploy_tui import __version__
from predeploy_tui.commands import COMMANDS, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def module_name(command: str) -> str:
    """The module of a subcommand: ``import`` lives in ``import_.py`` (a keyword)."""
    name = command.replace("-", "_")
    return f"{name}_" if keyword.iskeyword(name) else name


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    parser = _Parser(prog="predeploy", description="Pre-deployment checklists as recorded, "
                     "reviewable sessions.")
    parser.add_argument("--version", action="version", version=f"predeploy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"predeploy_tui.commands.{module_name(name)}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    from predeploy_tui.core.checklist import ChecklistError
    from predeploy_tui.core.session import SessionRuleError
    from predeploy_tui.core.store import SessionFileError, SessionLocked

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
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
        return 130
    except BrokenPipeError:
        return EXIT_OK
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
    """Console-script entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
