"""Provides ``predeploy demo``: a new session of the bundled demo checklist, in the app."""

from __future__ import annotations

import argparse

HELP = "open a new session of the bundled demo checklist (runs on any machine)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("--deployer", help="who deploys (default: git user.name, else login name)")


def main(args: argparse.Namespace) -> int:
    """Start the demo's health server and open the new-session form of the demo checklist."""
    from predeploy_tui import paths
    from predeploy_tui.commands import UsageError, existing_file, refuse_without_terminal
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.demo_server import DemoServer
    from predeploy_tui.engine.session_file import default_person
    from predeploy_tui.tui.app import NewSessionRequest, PredeployApp
    from predeploy_tui.tui.keymap import KeymapError, load_keymap
    from predeploy_tui.tui.launch import run_app, session_maker

    if refuse_without_terminal("demo", f"`predeploy run {paths.demo_checklist()}`"):
        return 2
    checklist_file = existing_file(str(paths.demo_checklist()), "demo checklist")
    checklist = load_checklist(checklist_file)
    try:
        keymap = load_keymap()
    except KeymapError as exc:
        raise UsageError(str(exc)) from None
    server = DemoServer()

    async def start_server() -> dict[str, str]:
        await server.start()
        return {"demo_url": server.url}

    request = NewSessionRequest(
        checklist, session_maker(checklist, checklist_file, session_path=None),
        deployer=args.deployer if args.deployer is not None else default_person(),
        prepare=start_server, cleanup=server.close)
    return run_app(PredeployApp(new=request, keymap=keymap))
