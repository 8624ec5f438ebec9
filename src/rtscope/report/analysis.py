"""Findings for a capture, from :mod:`rtscope.analyzers` when it is there.

The renderers (show, report) call :func:`find_issues`; the analyzers are imported lazily so the
renderers work (with no findings) in a build whose analyzers are missing or failed to import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from ..analyzers.findings import Finding
from ..capture.codec import Record

__all__ = ["analyzers_available", "find_issues"]


def _analyze() -> Any:
    try:
        module = importlib.import_module("rtscope.analyzers")
    except ImportError:
        return None
    return getattr(module, "analyze", None)


def analyzers_available() -> bool:
    """Whether ``rtscope.analyzers.analyze`` exists in this build."""
    return _analyze() is not None


def find_issues(records: Iterable[Record]) -> list[Finding]:
    """``rtscope.analyzers.analyze(records)`` as a list, or ``[]`` without analyzers."""
    analyze = _analyze()
    if analyze is None:
        return []
    return [f for f in analyze(records) if isinstance(f, Finding)]
