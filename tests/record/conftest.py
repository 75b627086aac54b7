"""Fixtures for the release-record tests: a finished demo session saved to a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.core import store
from predeploy_tui.core.session import Session

from .demo import finished_session


@pytest.fixture
def session() -> Session:
    """A finished, signed and decided demo session."""
    return finished_session()


@pytest.fixture
def saved(tmp_path: Path, session: Session) -> Path:
    """The finished session saved as TOML."""
    path = tmp_path / "demo-1.4.2-staging.toml"
    store.save(session, path)
    return path
