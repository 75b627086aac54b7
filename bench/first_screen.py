"""Provides a launcher that exits a Textual app once its first screen is on the terminal.

``python bench/first_screen.py predeploy open SESSION`` or ``python bench/first_screen.py
bench/bare_app.py``: both the app under test and the bare app are started through this same
file, so the difference between their wall times is the apps' own. The app exits as soon as
the first screen is mounted and every pending refresh is painted (an autopilot that waits for
the screen to settle, then calls ``exit``), without changing the app.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any


def _exit_when_painted() -> None:
    from textual.app import App
    from textual.pilot import Pilot

    original = App.run_async

    async def first_screen(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        pilot.app.exit()

    async def run_async(self: App[Any], *args: Any, **kwargs: Any) -> Any:
        kwargs["auto_pilot"] = first_screen
        return await original(self, *args, **kwargs)

    App.run_async = run_async  # type: ignore[method-assign]


def main() -> None:
    """Start the named program with the first-screen exit in place."""
    target, *rest = sys.argv[1:]
    _exit_when_painted()
    if target == "predeploy":
        from predeploy_tui.cli import entry

        sys.argv = ["predeploy", *rest]
        entry()
    else:
        sys.argv = [target, *rest]
        runpy.run_path(target, run_name="__main__")


if __name__ == "__main__":
    main()
