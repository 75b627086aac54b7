"""Provides ``predeploy plan``: every command, host and endpoint a run would touch; runs nothing."""

from __future__ import annotations

import argparse

from predeploy_tui.commands import (
    VARS_FILE_HELP,
    UsageError,
    existing_file,
    parse_vars,
    secret_values,
    with_vars_file,
)

HELP = "print every command, host and endpoint a run would touch (actions marked); runs nothing"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("target", metavar="CHECKLIST_OR_SESSION", help="a checklist YAML or session TOML")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="a checklist variable (repeatable)")
    p.add_argument("--vars", metavar="FILE", help=VARS_FILE_HELP)


def main(args: argparse.Namespace) -> int:
    """Print the plan."""
    from predeploy_tui.core import store
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.engine.endpoints import endpoint_lines
    from predeploy_tui.engine.plan import format_plan
    from predeploy_tui.engine.runner import Runner
    from predeploy_tui.engine.session_file import checklist_file
    from predeploy_tui.engine.template import TemplateError

    target = existing_file(args.target, "checklist or session")
    given = parse_vars(args.var)
    if target.suffix.lower() == ".toml":
        session = store.load(target)
        path = checklist_file(target, session.checklist_path, session.checklist_sha256)
        if path is None:
            raise UsageError(f"{target}: the session does not name its checklist")
        checklist = load_checklist(path)
        variables = {**session.variables, **given}
        secret_values(given, session.secret_variables)
    else:
        checklist = load_checklist(target)
        secret_values(given, [v.name for v in checklist.variables if v.secret])
        variables = {v.name: v.default or "" for v in checklist.variables}
        variables.update(given)
    secret = [v.name for v in checklist.variables if v.secret]
    given = with_vars_file(args.vars, given, [v.name for v in checklist.variables], secret)
    variables.update(given)
    unknown = sorted(set(given) - {v.name for v in checklist.variables})
    if unknown:
        raise UsageError("unknown variable(s): " + ", ".join(unknown))
    runner = Runner(checklist, variables, by="")
    try:
        planned = runner.plan()
    except TemplateError as exc:
        raise UsageError(str(exc)) from None
    from predeploy_tui.core.terminal import printable

    print(printable(f"Plan for {checklist.title} ({checklist.id})"))
    print(printable(format_plan(planned)))
    where = endpoint_lines(planned, runner.hosts())
    if where:
        print()
        print(printable("\n".join(where)))
    return 0
