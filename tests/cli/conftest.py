"""Shared fixtures for the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mitmproxy confdir for the session (its CA is generated once)."""
    return tmp_path_factory.mktemp("mitmproxy-conf-cli")
