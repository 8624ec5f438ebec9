"""The runner: one engine, two shells (:class:`LiveAnalyzer` and :func:`analyze`).

The engine keeps a :class:`~rtscope.protocol.session.SessionState` and one instance of every
selected rule per connection. :meth:`LiveAnalyzer.feed` returns the findings that became certain
with this record (the recorder prints them at once); :meth:`LiveAnalyzer.finish` closes a
connection (or all) and returns what only the end can show. :func:`analyze` is exactly "feed
everything, then finish", sorted by (conn, seq, rule).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..protocol.session import SessionState
from .findings import Finding
from .registry import Rule, all_rules

__all__ = ["LiveAnalyzer", "analyze", "select_rules"]


def select_rules(
    select: Collection[str] | None = None, ignore: Collection[str] | None = None
) -> list[type[Rule]]:
    """The rule classes to run. Unknown names raise ``ValueError`` listing the known ones."""
    rules = all_rules()
    known = {r.name for r in rules}
    for group in (select or (), ignore or ()):
        unknown = sorted(set(group) - known)
        if unknown:
            raise ValueError(f"unknown rule {', '.join(unknown)} (known: see 'rtscope rules')")
    chosen = [r for r in rules if select is None or not select or r.name in select]
    return [r for r in chosen if not ignore or r.name not in ignore]


@dataclass
class _Conn:
    state: SessionState
    rules: list[Rule]
    by_type: dict[str, list[Rule]] = field(default_factory=dict)
    every: list[Rule] = field(default_factory=list)
    timed: list[Rule] = field(default_factory=list)


class LiveAnalyzer:
    """Incremental analysis of a stream of capture records (any number of connections)."""

    def __init__(
        self,
        *,
        select: Collection[str] | None = None,
        ignore: Collection[str] | None = None,
    ) -> None:
        self._rule_classes = select_rules(select, ignore)
        self._conns: dict[str, _Conn] = {}
        self._out: list[Finding] = []

    def state(self, conn: str) -> SessionState | None:
        """The session state of a connection still open in this analyzer."""
        c = self._conns.get(conn)
        return None if c is None else c.state

    def _conn(self, conn: str) -> _Conn:
        c = self._conns.get(conn)
        if c is None:
            active = frozenset(cls.name for cls in self._rule_classes)
            rules = [cls(self._out.append, active) for cls in self._rule_classes]
            c = _Conn(SessionState(conn), rules)
            for rule in rules:
                if rule.types is None:
                    c.every.append(rule)
                else:
                    for etype in rule.types:
                        c.by_type.setdefault(etype, []).append(rule)
                if type(rule).on_time is not Rule.on_time:
                    c.timed.append(rule)
            self._conns[conn] = c
        return c

    def _take(self) -> list[Finding]:
        out, self._out[:] = list(self._out), []
        return out

    def feed(self, record: dict[str, Any]) -> list[Finding]:
        """Apply one record; returns the findings it made certain."""
        kind = record.get("kind")
        if kind not in ("msg", "open", "close"):
            return []
        conn = str(record.get("conn", "0"))
        c = self._conn(conn)
        t = record.get("t")
        if isinstance(t, int | float) and not isinstance(t, bool):
            for rule in c.timed:
                rule.on_time(c.state, float(t))
        if kind == "msg":
            m = c.state.apply(record)
            if m is not None:
                for rule in c.every:
                    rule.on_message(c.state, m)
                for rule in c.by_type.get(m.type, ()):
                    rule.on_message(c.state, m)
        elif kind == "open":
            c.state.apply_open(record)
        else:
            c.state.apply_close(record)
        return self._take()

    def tick(self, t: float, conn: str | None = None) -> list[Finding]:
        """Let deadlines expire at time ``t`` without a record (live use)."""
        for name in [conn] if conn is not None else list(self._conns):
            c = self._conns.get(name) if name is not None else None
            if c is not None:
                for rule in c.timed:
                    rule.on_time(c.state, t)
        return self._take()

    def finish(self, conn: str | None = None) -> list[Finding]:
        """End one connection (or all): findings only the end can show. Forgets the state."""
        names = [conn] if conn is not None else list(self._conns)
        for name in names:
            c = self._conns.pop(name, None) if name is not None else None
            if c is not None:
                for rule in c.rules:
                    rule.on_finish(c.state)
        return self._take()


def sort_key(f: Finding) -> tuple[str, int, str]:
    return (f.conn, -1 if f.seq is None else f.seq, f.rule)


def analyze(
    records: Iterable[dict[str, Any]],
    *,
    select: Collection[str] | None = None,
    ignore: Collection[str] | None = None,
) -> list[Finding]:
    """Every finding of ``records``, sorted by (conn, seq, rule)."""
    live = LiveAnalyzer(select=select, ignore=ignore)
    out: list[Finding] = []
    for record in records:
        out.extend(live.feed(record))
    out.extend(live.finish())
    return sorted(out, key=sort_key)
