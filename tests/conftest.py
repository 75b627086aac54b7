"""Test-run policy shared by every folder."""

from __future__ import annotations

import os

import pytest

# Skips that mean "a server or tool the suite needs is missing". `./dev test` installs all of them,
# so there (PREDEPLOY_REQUIRE_SERVICES=1) such a skip is a failure: a missing install step must
# not pass as a green run with integration tests quietly left out.
_MISSING = ("not installed", "binaries not installed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PREDEPLOY_REQUIRE_SERVICES") == "1" and report.skipped:
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if any(word in reason for word in _MISSING):
            report.outcome = "failed"
            report.longrepr = f"required service or tool missing (./dev test installs it): {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the ``soak`` runs (minutes each) unless the marker expression names them."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("soak") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
