"""Live findings while recording (``rtscope_live``): the plumbing around the analyzers.

The analyzers package provides ``rtscope.analyzers.LiveAnalyzer`` with ``feed(record) ->
list[Finding]`` and ``finish(conn) -> list[Finding]``. It is imported lazily, only when live
analysis is switched on, so the recorder's hot path pays nothing when it is off. If the analyzer is
not available in this build, live analysis is silently off.

Each new finding is printed as one line ``[rule] conn: message`` on stderr and returned as a
``finding`` record for the caller to append to the capture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..capture.codec import Record

__all__ = ["LiveFindings", "load_live_analyzer"]


class _Analyzer(Protocol):
    def feed(self, record: dict[str, Any]) -> list[Any]: ...

    def finish(self, conn: str) -> list[Any]: ...


def load_live_analyzer() -> _Analyzer | None:
    """A new ``LiveAnalyzer``, or ``None`` if this build has none."""
    try:
        from ..analyzers import LiveAnalyzer  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    analyzer: _Analyzer = LiveAnalyzer()
    return analyzer


class LiveFindings:
    """Feed records to a live analyzer; print and return its findings as records."""

    def __init__(self, analyzer: _Analyzer, say: Callable[[str], None]) -> None:
        self._analyzer = analyzer
        self._say = say

    def feed(self, record: dict[str, Any]) -> list[Record]:
        return self._publish(self._analyzer.feed(record))

    def finish(self, conn: str) -> list[Record]:
        return self._publish(self._analyzer.finish(conn))

    def _publish(self, findings: list[Any]) -> list[Record]:
        records: list[Record] = []
        for finding in findings:
            data = finding.to_dict()
            self._say(f"[{data.get('rule')}] {data.get('conn')}: {data.get('message')}")
            records.append({"kind": "finding", **data})
        return records
