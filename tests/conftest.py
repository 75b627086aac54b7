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
