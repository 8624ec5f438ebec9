"""Shared test helpers: fixture paths and record loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.capture.sources import open_source

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
CAPTURES = FIXTURES / "captures"


def load(path: Path) -> list[dict]:
    return list(open_source(path))


@pytest.fixture
def capture():
    """``capture("ga-audio-turn")``: the records of a recorded fixture capture."""
    return lambda name: load(CAPTURES / f"{name}.jsonl")


@pytest.fixture
def seed():
    """``seed("000")``: the records of a seed converted to bare-event JSONL."""
    return lambda prefix: load(next(SEEDS.glob(f"{prefix}_*.jsonl")))
