"""The rule base class and the registry every rule joins by subclassing.

A rule is a small class: a stable kebab-case ``name`` (a public contract: users put it in
``--select``/``--ignore`` and CI configs), a default ``severity``, and a docstring that is its
documentation (first line: the summary; then what it means, why it matters, how to fix, an
example). Subclassing :class:`Rule` registers it (the ``__init_subclass__`` trick of mitmproxy's
hooks). One instance is made per connection; it reads the shared
:class:`~rtscope.protocol.session.SessionState` and reports through :meth:`Rule.report`.

Hooks, all optional:

- ``on_message(s, m)``: after the state applied message ``m``
  (a :class:`~rtscope.protocol.session.Msg`); ``types`` restricts which event types reach
  it (``None``: all);
- ``on_counted(s, seq, t, event, response)``: a bulk event (audio append or delta, transcript
  or text delta) the engine counted on its fast path (see ``fast_events``);
- ``wants_counted(s, etype)``: whether ``on_counted`` may still act on such events (the engine
  skips the call per audio chunk of a rule that has nothing left to do);
- ``on_time(s, t)``: before a record stamped ``t`` is applied (deadlines: "no ack within 5 s");
- ``on_finish(s)``: at the end of the connection or capture.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from typing import Any, ClassVar

from ..protocol.session import COUNTED_EVENTS, Msg, Response, SessionState
from .findings import Finding, Severity

__all__ = ["ALL_COUNTED", "Rule", "all_rules", "get_rule", "rule_names"]

_RULES: dict[str, type[Rule]] = {}
#: every event type the engine's fast path knows (for ``fast_events = ALL_COUNTED``)
ALL_COUNTED: frozenset[str] = frozenset(COUNTED_EVENTS)
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_LOADED = False


class Rule:
    """Base class of every rule (not itself a rule)."""

    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    #: event types that reach :meth:`on_message` (``None``: every event)
    types: ClassVar[frozenset[str] | None] = None
    #: Bulk event types (:data:`~rtscope.protocol.session.COUNTED_EVENTS`: audio appends and
    #: deltas, transcript and text deltas) this rule lets the engine count on its fast path:
    #: when the state proves such an event uneventful (well formed, no violation, no new
    #: dialect: :meth:`SessionState.apply_counted`), no :class:`~rtscope.protocol.session.Msg`
    #: is built and the event reaches :meth:`on_counted` (if the rule would have seen it in
    #: :meth:`on_message`) instead. Listing a type promises that ``on_counted`` does for such an
    #: event what ``on_message`` would. A type that reaches ``on_message`` of a rule not listing
    #: it keeps every event of that type on the full path.
    fast_events: ClassVar[frozenset[str]] = frozenset()
    #: the first line of the docstring, set at registration
    summary: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            return
        if not _NAME.match(cls.name):
            raise ValueError(f"rule name {cls.name!r} is not kebab-case")
        if cls.name in _RULES and _RULES[cls.name] is not cls:
            raise ValueError(f"rule {cls.name!r} registered twice")
        doc = inspect.cleandoc(cls.__doc__ or "")
        if not doc:
            raise ValueError(f"rule {cls.name!r} has no docstring")
        cls.summary = doc.splitlines()[0]
        _RULES[cls.name] = cls

    def __init__(
        self, emit: Callable[[Finding], None], active: frozenset[str] = frozenset()
    ) -> None:
        self._emit = emit
        #: names of every rule running beside this one (a rule may defer to a more specific one)
        self.active = active

    def on_message(self, s: SessionState, m: Msg) -> None:
        """Called after the state applied ``m``."""

    def on_counted(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        """A bulk event counted on the fast path; ``response``: a response event's (else None)."""

    def wants_counted(self, s: SessionState, etype: str) -> bool:
        """Whether :meth:`on_counted` may do anything for counted ``etype`` events from now on.

        The engine asks after each record that took the full path (``on_message``, an open or
        close record; after ``on_time`` too if the rule has one) before the next counted event
        of that type, and skips the rule's ``on_counted`` for such events until it asks again.
        ``False`` therefore promises that until the next record on the full path, ``on_counted``
        would change nothing and report nothing for them: answer from what only the full path
        changes (the rule's own ``on_message`` state, the session's configuration), or from a
        state ``on_counted`` can never leave (a rule that made its one finding). Default: yes.
        """
        return True

    def on_time(self, s: SessionState, t: float) -> None:
        """Called before a record stamped ``t`` is applied."""

    def on_finish(self, s: SessionState) -> None:
        """Called at the end of the connection or capture."""

    def report(
        self,
        s: SessionState,
        seq: int | None,
        t: float | None,
        message: str,
        hint: str = "",
        severity: Severity | None = None,
        **details: Any,
    ) -> None:
        self._emit(
            Finding(
                rule=self.name,
                severity=self.severity if severity is None else severity,
                conn=s.conn,
                seq=seq,
                t=t,
                message=message,
                hint=hint,
                details={k: v for k, v in details.items() if v is not None},
            )
        )


def _load() -> None:
    global _LOADED
    if not _LOADED:
        importlib.import_module("rtscope.analyzers.rules")
        _LOADED = True


def all_rules() -> list[type[Rule]]:
    """Every registered rule class, sorted by name."""
    _load()
    return [_RULES[name] for name in sorted(_RULES)]


def rule_names() -> list[str]:
    return [r.name for r in all_rules()]


def get_rule(name: str) -> type[Rule]:
    """The rule class called ``name``; ``KeyError`` naming the known rules otherwise."""
    _load()
    try:
        return _RULES[name]
    except KeyError:
        raise KeyError(f"unknown rule {name!r} (see 'rtscope rules')") from None
