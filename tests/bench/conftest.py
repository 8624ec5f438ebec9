"""The bench scripts are plain scripts in bench/ (run as ``python bench/x.py``): import them so."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


@pytest.fixture
def bench_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private synthetic-capture cache, so tests never touch the shared one."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RTSCOPE_BENCH_CACHE", str(cache))
    return cache
