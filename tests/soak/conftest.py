"""Soak tests run only when asked for: ``make soak`` (``pytest -m slow tests/soak``)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak` (pytest -m slow tests/soak)")
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)
