"""Live findings while recording (``rtscope_live``): the plumbing around the analyzers.

The analyzers package provides ``rtscope.analyzers.LiveAnalyzer`` with ``feed(record) ->
list[Finding]`` and ``finish(conn) -> list[Finding]``. It is imported lazily, only when live
analysis is switched on, so the recorder's hot path pays nothing when it is off. If the analyzer is
not available in this build, live analysis is silently off.

Each new finding is printed as one line ``[rule] conn: message`` on stderr and returned as a
``finding`` record for the caller to append to the capture.

The recorder's hook calls :attr:`LiveFindings.analyze` (the analyzer's own ``feed``) for every
message and :meth:`LiveFindings.publish` only when it found something: almost every message of a
voice session finds nothing, and a layer of calls and lists around each one is what the live path
cost most outside the analyzer itself (``bench/live_path.py``).
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
        #: the analyzer's ``feed``: a record in, its findings out (not yet published)
        self.analyze: Callable[[dict[str, Any]], list[Any]] = analyzer.feed

    def feed(self, record: dict[str, Any]) -> list[Record]:
        """Feed one record; its findings, printed, as ``finding`` records."""
        found = self.analyze(record)
        return self.publish(found) if found else []

    def finish(self, conn: str) -> list[Record]:
        return self.publish(self._analyzer.finish(conn))

    def publish(self, findings: list[Any]) -> list[Record]:
        """Print each finding and return them as ``finding`` records."""
        records: list[Record] = []
        for finding in findings:
            data = finding.to_dict()
            self._say(f"[{data.get('rule')}] {data.get('conn')}: {data.get('message')}")
            records.append({"kind": "finding", **data})
        return records
