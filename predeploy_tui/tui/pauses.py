"""Provides fewer garbage-collector pauses while checks run: the keys must not wait on them.

With 200 checks streaming, a full (oldest-generation) collection scans every object the app
holds and stalls the event loop for 100 ms or more, several times a run. The objects made while
starting (modules, the checklist, the first screen) live as long as the app, so the collector
does not run while they are made and they are moved out of its sight once; and while a run is
in progress full collections are put off (young ones still run, so short-lived cycles are
freed) until the runs end.
"""

from __future__ import annotations

import gc

RUNNING_THRESHOLD = 1000
"""Young-generation collections before a full one is considered, while checks run."""


_settled = False
_held = False


def hold_startup_collections() -> None:
    """No collections while the app starts: importing it and building the first screen make
    objects by the hundred thousand, all kept for the app's life, and the collector scanned
    them over and over for nothing (a tenth of the CPU to the first screen). ``settle_startup``
    turns it back on."""
    global _held
    if gc.isenabled():
        _held = True
        gc.disable()


def settle_startup() -> None:
    """Exempt what exists now (startup's objects, kept for the app's life) from every scan,
    and collect again if ``hold_startup_collections`` stopped it.

    Freezing is once per process: a process that opens app after app (the tests) would
    otherwise keep every earlier app's cycles for good.
    """
    global _settled
    if not _settled:
        _settled = True
        gc.freeze()
    release_startup_collections()


def release_startup_collections() -> None:
    """Collect again if ``hold_startup_collections`` stopped it (also when the app never
    showed its first screen)."""
    global _held
    if _held:
        _held = False
        gc.enable()


class FullCollections:
    """Puts off full collections while any run is in progress; restores the default after."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None

    def hold(self) -> None:
        """A run started: full collections wait (nested runs are fine)."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, RUNNING_THRESHOLD)

    def release(self) -> None:
        """The last run ended: the usual thresholds again (the next full one catches up)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
