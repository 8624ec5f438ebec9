"""The runner: one engine, two shells (:class:`LiveAnalyzer` and :func:`analyze`).

The engine keeps a :class:`~rtscope.protocol.session.SessionState` and one instance of every
selected rule per connection. :meth:`LiveAnalyzer.feed` returns the findings that became certain
with this record (the recorder prints them at once); :meth:`LiveAnalyzer.finish` closes a
connection (or all) and returns what only the end can show. :func:`analyze` is exactly what the
recorder does: feed everything, finish each connection at its close record (and the rest at the
end), sorted by (conn, seq, rule).

Most records of a voice session are audio appends and deltas, transcript and text deltas. When
the state proves one uneventful (:meth:`SessionState.apply_counted`) and every rule that would see
it accepts it that way (``Rule.fast_events``), it is counted without a ``Msg`` and reaches only
the rules' ``on_counted`` hooks: the same findings (tests/analyzers/test_engine.py runs every
fixture both ways), at about half the cost per record. A rule whose ``on_counted`` has nothing
left to do (``Rule.wants_counted`` says so: the session is set up, VAD fired, its one finding
made) is not called for such events until a record takes the full path again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..protocol.session import SessionState
from .findings import Finding, Severity
from .registry import ALL_COUNTED, Rule, all_rules

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


Hook = Callable[..., None]
#: deadlines (5 s, 15 s…) are checked at most this often, not on every record
TICK_S = 0.1


@dataclass
class _Conn:
    state: SessionState
    rules: list[Rule]
    #: bound ``on_message`` hooks per event type, and for every event
    by_type: dict[str, list[Hook]] = field(default_factory=dict)
    every: list[Hook] = field(default_factory=list)
    timed: list[Hook] = field(default_factory=list)
    #: bulk event types on the fast path → their bound ``on_counted`` hooks
    fast: dict[str, list[Hook]] = field(default_factory=dict)
    #: of those, the hooks whose rule still wants such events (``Rule.wants_counted``), per type
    #: as asked since the last record that took the full path (emptied then, refilled lazily)
    counting: dict[str, list[Hook]] = field(default_factory=dict)
    #: rules that answer ``wants_counted`` themselves (the others always want)
    asks: set[Rule] = field(default_factory=set)
    #: a rule with ``on_time`` also answers ``wants_counted``: ask again after deadlines ran
    ask_after_tick: bool = False
    last_tick: float | None = None


_KINDS = frozenset({"msg", "open", "close"})


def _overrides(rule: Rule, name: str) -> bool:
    return getattr(type(rule), name) is not getattr(Rule, name)


def _fast_hooks(rules: list[Rule]) -> dict[str, list[Hook]]:
    """Bulk types every rule lets through the fast path, with the ``on_counted`` hooks to run."""
    fast: dict[str, list[Hook]] = {}
    for etype in ALL_COUNTED:
        hooks: list[Hook] = []
        for rule in rules:
            sees = _overrides(rule, "on_message") and (rule.types is None or etype in rule.types)
            if etype in rule.fast_events:
                if sees and _overrides(rule, "on_counted"):
                    hooks.append(rule.on_counted)
            elif sees:
                break  # this rule needs the Msg of every such event
        else:
            fast[etype] = hooks
    return fast


class LiveAnalyzer:
    """Incremental analysis of a stream of capture records (any number of connections)."""

    def __init__(
        self,
        *,
        select: Collection[str] | None = None,
        ignore: Collection[str] | None = None,
        strict: bool = False,
        fast_events: bool = True,
    ) -> None:
        self._rule_classes = select_rules(select, ignore)
        #: raise a rule's exception (tests) instead of reporting it as a finding
        self.strict = strict
        #: count uneventful bulk events without a Msg (:meth:`SessionState.apply_counted`); off,
        #: every event takes the full path (the reference the fast path is tested against)
        self.fast_events = fast_events
        self._conns: dict[str, _Conn] = {}
        self._out: list[Finding] = []
        #: the connection of the last record fed (a stream holds long runs of one connection)
        self._last_name: str | None = None
        self._last: _Conn | None = None

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
                if _overrides(rule, "on_message"):
                    if rule.types is None:
                        c.every.append(rule.on_message)
                    else:
                        for etype in rule.types:
                            c.by_type.setdefault(etype, []).append(rule.on_message)
                if _overrides(rule, "on_time"):
                    c.timed.append(rule.on_time)
            if self.fast_events:
                c.fast = _fast_hooks(rules)
                c.asks = {r for r in rules if _overrides(r, "wants_counted")}
                c.ask_after_tick = any(_overrides(r, "on_time") for r in c.asks)
            self._conns[conn] = c
        return c

    def _take(self) -> list[Finding]:
        out, self._out[:] = list(self._out), []
        return out

    def feed(self, record: dict[str, Any]) -> list[Finding]:
        """Apply one record; returns the findings it made certain."""
        kind = record.get("kind")
        if kind != "msg" and kind not in _KINDS:
            return []
        conn = record.get("conn", "0")
        c = self._last
        if conn != self._last_name or c is None:  # not the connection of the record before
            if type(conn) is not str:
                conn = str(conn)
            c = self._conns.get(conn) or self._conn(conn)
            self._last_name, self._last = conn, c
        if c.timed:
            t = record.get("t")
            if type(t) is float or (isinstance(t, int | float) and not isinstance(t, bool)):
                last = c.last_tick
                if (last is None or not 0 <= t - last < TICK_S) and math.isfinite(t):
                    self._tick(c, float(t), record)
        if kind == "msg":
            state = c.state
            event = record.get("event")
            if type(event) is dict:
                etype: Any = event.get("type")
                if type(etype) is str:
                    fast = c.counting.get(etype)
                    if fast is None and etype in c.fast:  # not asked since the full path ran
                        fast = self._counting(c, etype)
                else:
                    fast = None
                if fast is not None and state.apply_counted(record, event, etype):
                    if fast:
                        seq, t = state.counted_seq, state.counted_t
                        resp = state.counted_response
                        try:
                            for hook in fast:
                                hook(state, seq, t, event, resp)
                        except Exception as exc:
                            self._failed(c, fast, hook, exc, seq, (state, seq, t, event, resp))
                    return self._take() if self._out else []
            m = state.apply(record)
            if c.counting:
                c.counting.clear()  # the rules may want counted events again (or no longer)
            if m is not None:
                if c.every:
                    self._run(c, c.every, m.seq, state, m)
                hooks = c.by_type.get(m.type)
                if hooks:
                    self._run(c, hooks, m.seq, state, m)
        elif kind == "open":
            c.state.apply_open(record)
            c.counting.clear()
        else:
            c.state.apply_close(record)
            c.counting.clear()
        return self._take() if self._out else []

    def _counting(self, c: _Conn, etype: str) -> list[Hook]:
        """The ``on_counted`` hooks to run for ``etype`` (a type of the fast path) now: asked
        once per type and stretch of the fast path."""
        hooks = c.fast[etype]
        if c.asks:
            wanted = []
            for hook in hooks:
                rule = hook.__self__  # type: ignore[attr-defined]
                if rule in c.asks:
                    try:
                        if not rule.wants_counted(c.state, etype):
                            continue
                    except Exception:
                        if self.strict:
                            raise
                        # not trusted: its on_counted keeps running (and is retired if it fails)
                wanted.append(hook)
            hooks = wanted
        c.counting[etype] = hooks
        return hooks

    def _tick(self, c: _Conn, t: float, record: dict[str, Any]) -> None:
        """Run the timed hooks (deadlines) before a record stamped ``t``."""
        c.last_tick = t
        seq = record.get("seq")
        self._run(c, c.timed, seq if isinstance(seq, int) else None, c.state, t)
        if c.ask_after_tick:
            c.counting.clear()

    def _run(self, c: _Conn, hooks: list[Hook], seq: int | None, *args: Any) -> None:
        """Call each hook; a crashing rule is reported and retired, never fatal."""
        try:
            for hook in hooks:
                hook(*args)
        except Exception as exc:
            self._failed(c, hooks, hook, exc, seq, args)

    def _failed(
        self,
        c: _Conn,
        hooks: list[Hook],
        hook: Hook,
        exc: Exception,
        seq: int | None,
        args: tuple[Any, ...],
    ) -> None:
        """``hook`` of ``hooks`` raised ``exc``: report and retire its rule, run the rest."""
        if self.strict:
            raise exc
        rule: Rule = hook.__self__  # type: ignore[attr-defined]
        rest = hooks[hooks.index(hook) + 1 :]
        self._retire(c, rule)
        self._out.append(
            Finding(
                rule=rule.name,
                severity=Severity.INFO,
                conn=c.state.conn,
                seq=seq,
                t=None,
                message=f"rtscope bug: rule {rule.name} failed here "
                f"({type(exc).__name__}: {exc}); it was stopped for this connection",
                hint="please report it with this capture",
            )
        )
        self._run(c, [h for h in rest if getattr(h, "__self__", None) is not rule], seq, *args)

    @staticmethod
    def _retire(c: _Conn, rule: Rule) -> None:
        def keep(hooks: list[Hook]) -> None:
            hooks[:] = [h for h in hooks if getattr(h, "__self__", None) is not rule]

        c.counting.clear()
        c.asks.discard(rule)
        keep(c.every)
        keep(c.timed)
        for hooks in c.by_type.values():
            keep(hooks)
        for hooks in c.fast.values():
            keep(hooks)
        c.rules = [r for r in c.rules if r is not rule]

    def tick(self, t: float, conn: str | None = None) -> list[Finding]:
        """Let deadlines expire at time ``t`` without a record (live use)."""
        for name in [conn] if conn is not None else list(self._conns):
            c = self._conns.get(name) if name is not None else None
            if c is not None and c.timed:
                c.last_tick = t
                self._run(c, c.timed, None, c.state, t)
                if c.ask_after_tick:
                    c.counting.clear()
        return self._take()

    def finish(self, conn: str | None = None) -> list[Finding]:
        """End one connection (or all): findings only the end can show. Forgets the state."""
        names = [conn] if conn is not None else list(self._conns)
        for name in names:
            c = self._conns.pop(name, None) if name is not None else None
            if name == self._last_name:
                self._last_name = self._last = None
            if c is not None:
                if c.timed and c.state.last_t is not None:
                    self._run(c, c.timed, None, c.state, c.state.last_t)
                self._run(c, [r.on_finish for r in c.rules], None, c.state)
        return self._take()


def sort_key(f: Finding) -> tuple[str, int, str]:
    return (f.conn, -1 if f.seq is None else f.seq, f.rule)


def analyze(
    records: Iterable[dict[str, Any]],
    *,
    select: Collection[str] | None = None,
    ignore: Collection[str] | None = None,
    strict: bool = False,
    fast_events: bool = True,
) -> list[Finding]:
    """Every finding of ``records``, sorted by (conn, seq, rule)."""
    live = LiveAnalyzer(select=select, ignore=ignore, strict=strict, fast_events=fast_events)
    out: list[Finding] = []
    feed = live.feed
    for record in records:
        found = feed(record)
        if found:
            out.extend(found)
        if record.get("kind") == "close":
            # as the recorder does: a closed connection's state is finished and dropped, so
            # memory holds only the connections still open, not the whole capture
            out.extend(live.finish(str(record.get("conn", "0"))))
    out.extend(live.finish())
    return sorted(out, key=sort_key)
