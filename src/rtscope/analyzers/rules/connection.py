"""Rules about the connection and the session: close, expiry, dialect, rate limits."""

from __future__ import annotations

from typing import Any

from ...protocol.config import as_list
from ...protocol.dialect import Dialect, handshake_dialect
from ...protocol.session import Msg, SessionState
from ..findings import Severity
from ..registry import ALL_COUNTED, Rule

_CLOSE_NAMES = {
    1002: "protocol error",
    1006: "connection dropped without a close frame",
    1008: "policy violation",
    1011: "internal error or keepalive ping timeout",
    4000: "refused by the server",
}


class AbnormalClose(Rule):
    """The connection ended with a close code other than 1000/1001, or without a close at all.

    1006 means the TCP connection dropped without a close frame (network, proxy), 1011 is often a
    keepalive ping timeout of the client library, 1002 a protocol error. Code 4000 with
    ``beta_api_shape_disabled`` means the beta Realtime API was used after its retirement on
    2026-05-12. A recorded connection with no close record ended while the capture was running.

    Fix: for 4000/beta_api_shape_disabled, drop the ``OpenAI-Beta: realtime=v1`` header and move
    to the GA event names; for 1006/1011, check proxies and keep the event loop responsive.

    Example: ``{"kind":"close","code":4000,"reason":"beta_api_shape_disabled"}``.
    """

    name = "abnormal-close"
    severity = Severity.ERROR

    def on_finish(self, s: SessionState) -> None:
        close = s.close
        if close is None:
            if s.recorded:
                self.report(
                    s,
                    None,
                    s.last_t,
                    "the connection has no close: it was still open when the capture ended, "
                    "or the recorder missed its end",
                    "record until the session ends; a dropped connection is recorded as 1006",
                )
            return
        code = close.get("code")
        reason = str(close.get("reason") or "")
        if code in (1000, 1001):
            return
        beta = "beta_api_shape_disabled" in reason or "beta_api_shape_disabled" in s.error_codes
        if beta:
            msg = (
                f"the server closed the connection ({code}): the beta Realtime API was retired "
                "on 2026-05-12 (beta_api_shape_disabled)"
            )
            hint = "remove the OpenAI-Beta: realtime=v1 header and use the GA event names"
        else:
            name = _CLOSE_NAMES.get(code) if isinstance(code, int) else None
            msg = f"the connection closed abnormally with code {code}"
            msg += f" ({name})" if name else ""
            msg += f": {reason}" if reason else ""
            hint = (
                "check proxies and network; keep the client's event loop responsive "
                "(keepalive pings)"
            )
        self.report(
            s,
            None,
            close.get("t"),
            msg,
            hint,
            code=code,
            reason=reason or None,
            by=close.get("by"),
            beta_retired=beta or None,
        )


class SessionExpired(Rule):
    """The session hit its maximum duration (error ``session_expired`` or the close reason).

    The server ends a session after a fixed maximum (15 min in 2024, then 30, 60 min in GA):
    an ``error`` with code ``session_expired`` and/or a close 1001 naming the duration. Later
    client events fail.

    Fix: open a new session before the limit (``session.created.session.expires_at`` tells when)
    and carry the context over.

    Example: ``{"type":"error","error":{"code":"session_expired","message":"Your session hit the
    maximum duration of 30 minutes."}}``.
    """

    name = "session-expired"
    severity = Severity.ERROR
    types = frozenset({"error"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        if self._done or m.error is None or m.error.code != "session_expired":
            return
        self._done = True
        self._report(s, m.seq, m.t, m.error.message)

    def _report(self, s: SessionState, seq: int | None, t: float | None, text: str) -> None:
        self.report(
            s,
            seq,
            t,
            f"the session expired: {text}" if text else "the session expired",
            "reconnect before session.expires_at and carry the conversation over",
            expires_at=s.raw_session.get("expires_at"),
        )

    def on_finish(self, s: SessionState) -> None:
        reason = str((s.close or {}).get("reason") or "")
        if not self._done and ("maximum duration" in reason or "session_expired" in reason):
            self._done = True
            self._report(s, None, (s.close or {}).get("t"), reason)


class DialectMismatch(Rule):
    """Beta and GA event names or shapes are mixed in one connection.

    The beta dialect (``response.audio.delta``, flat ``modalities``) and GA
    (``response.output_audio.delta``, ``output_modalities``, ``session.type``) are incompatible:
    a half-migrated client listens for names the server never sends (0 audio bytes played), or a
    server emits beta names to a GA client. Reported when the client and the server use
    different dialects, or one side uses both.

    Fix: move every event name and session field to one dialect (GA: no ``OpenAI-Beta``
    header, ``session.type``, ``output_modalities``, ``response.output_*``).

    Example: client ``session.update`` with ``session.type`` (GA) → server
    ``response.audio.delta`` (beta).
    """

    name = "dialect-mismatch"
    severity = Severity.ERROR
    #: A clash shows on the first event of a (side, dialect) pair: the fast path takes only
    #: neutral events and server deltas of a pair already seen (and the handshake check is for
    #: client events), so it never holds the event that shows one.
    fast_events = ALL_COUNTED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        if self._done or m.dialect is None:
            return
        other: Dialect = "beta" if m.dialect == "ga" else "ga"
        peer = "server" if m.frm == "client" else "client"
        clash: tuple[str, Any] | None = None
        if (m.frm, other) in s.dialects:
            clash = (f"the {m.frm} used both dialects", s.dialects[(m.frm, other)])
        elif (peer, other) in s.dialects:
            clash = (
                f"the {peer} speaks {other} and the {m.frm} {m.dialect}",
                s.dialects[(peer, other)],
            )
        elif m.frm == "client" and m.dialect == "ga" and _beta_header(s):
            clash = ("the handshake asked for the beta API (OpenAI-Beta header)", None)
        if clash is None:
            return
        self._done = True
        self.report(
            s,
            m.seq,
            m.t,
            f"beta and GA Realtime dialects are mixed: {clash[0]} ({m.type} is {m.dialect})",
            "use one dialect for every event and field (GA: no OpenAI-Beta header, "
            "session.type, output_modalities, response.output_* events)",
            dialect=m.dialect,
            other_seq=clash[1],
        )


def _beta_header(s: SessionState) -> bool:
    return handshake_dialect(s.open) == "beta"


class RateLimitLow(Rule):
    """A rate limit's remaining tokens or requests fell under 10% of the limit.

    ``rate_limits.updated`` reports, per limit (``requests``, ``tokens``), the limit and what
    remains; each response reserves its maximum output tokens. Under 10% the next responses are
    likely to fail with a rate-limit error.

    Fix: lower ``max_output_tokens``, spread the load, or raise the account's limits.

    Example: ``{"name":"tokens","limit":40000,"remaining":2100}``.
    """

    name = "rate-limit-low"
    severity = Severity.WARNING
    types = frozenset({"rate_limits.updated"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[str] = set()

    def on_message(self, s: SessionState, m: Msg) -> None:
        for lim in as_list(m.event.get("rate_limits")):
            if not isinstance(lim, dict):
                continue
            name, limit, left = lim.get("name"), lim.get("limit"), lim.get("remaining")
            if not isinstance(limit, int | float) or not isinstance(left, int | float):
                continue
            if limit <= 0 or left >= 0.1 * limit or str(name) in self._seen:
                continue
            self._seen.add(str(name))
            self.report(
                s,
                m.seq,
                m.t,
                f"rate limit '{name}' is low: {left} of {limit} remaining",
                "lower max_output_tokens, slow down, or raise the account's limits",
                limit_name=name,
                limit=limit,
                remaining=left,
                reset_seconds=lim.get("reset_seconds"),
            )


#: warn this long before ``session.expires_at``
EXPIRY_WARNING_S = 120


class SessionExpiring(Rule):
    """The session came within 2 minutes of its maximum duration (``expires_at``).

    ``session.created.session.expires_at`` says when the server will end the session (15, 30,
    then 60 minutes after it started). Messages still flowing 2 minutes before that mean the
    conversation is about to be cut with ``session_expired``. Needs timestamps (the capture
    clock is compared with the server's ``expires_at``).

    Fix: plan a reconnect before ``expires_at`` and carry the conversation over (a summary in
    ``instructions``, or re-sent items).

    Example: ``expires_at`` 1746627680 and client audio at 1746627600.
    """

    name = "session-expiring"
    severity = Severity.WARNING

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False

    def on_time(self, s: SessionState, t: float) -> None:
        expires = s.raw_session.get("expires_at")
        if self._done or not isinstance(expires, int | float) or isinstance(expires, bool):
            return
        if expires <= 0 or t < expires - EXPIRY_WARNING_S:
            return
        if "session_expired" in s.error_codes:
            self._done = True
            return  # session-expired says it
        self._done = True
        self.report(
            s,
            None,
            t,
            f"the session is {max(0, round(expires - t))} s from its maximum duration "
            "(session.expires_at) and still in use",
            "reconnect before session.expires_at and carry the conversation over",
            expires_at=expires,
            seconds_left=round(expires - t, 1),
        )
