"""Fixtures shared by the capture tests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def shut_down_pool() -> Iterator[ThreadPoolExecutor]:
    """A worker pool that takes no more jobs, as at interpreter shutdown (``submit`` raises)."""
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    yield pool
