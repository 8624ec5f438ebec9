"""Rules about client requests: ordering around the session handshake, updates, acks."""

from __future__ import annotations

from typing import Any

from ...protocol.config import normalize_session
from ...protocol.session import ClientRequest, Msg, Response, SessionState
from ..findings import Severity
from ..registry import ALL_COUNTED, Rule
from ._util import gap_ms

_UPDATES = frozenset({"session.update", "transcription_session.update"})
_RACING = frozenset({"input_audio_buffer.append", "response.create", "conversation.item.create"})
ACK_TIMEOUT_S = 5.0


class SentBeforeSessionCreated(Rule):
    """A client event other than ``session.update`` was sent before ``session.created`` arrived.

    ``session.created`` is the server's first event; until then the session is not set up. Items,
    audio or ``response.create`` sent earlier may run on default settings (instructions, voice,
    format) or race the configuration; the symptom is a first turn that ignores the config.
    Reported when ``session.created`` arrives, for the first early event (all are listed).

    Fix: wait for ``session.created``, send ``session.update``, wait for ``session.updated``,
    then send items, audio and ``response.create``.

    Example: ``conversation.item.create`` (system prompt) at 05.178 → ``session.created`` at
    05.246.
    """

    name = "sent-before-session-created"
    severity = Severity.WARNING
    #: an append before session.created is early like any client event; server deltas are not
    fast_events = ALL_COUNTED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the finding needs, not the messages: a server that never sends session.created
        # must not make the recorder keep every client event (audio included) in memory.
        self._first: tuple[int, float | None, str] | None = None
        self._count = 0
        self._seqs: list[int] = []
        self._types: set[str] = set()
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        if self._done:
            return
        if m.frm == "client":
            if s.session_created is None and m.type not in _UPDATES:
                self._early(m.seq, m.t, m.type)
            return
        if s.session_created is m:
            self._done = True
            if self._first is None:
                return
            seq, t, etype = self._first
            self.report(
                s,
                seq,
                t,
                f"{etype} was sent before session.created arrived"
                + (f" ({self._count} early client events)" if self._count > 1 else ""),
                "wait for session.created (then session.update and session.updated) before "
                "sending items, audio or response.create",
                session_created_seq=m.seq,
                early_seqs=self._seqs,
                early_types=sorted(self._types),
                gap_ms=gap_ms(m.t, t),
            )

    def _early(self, seq: int, t: float | None, etype: str) -> None:
        if self._first is None:
            self._first = (seq, t, etype)
        self._count += 1
        if len(self._seqs) < 20:
            self._seqs.append(seq)
        self._types.add(etype)

    def on_counted(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        etype = event.get("type")
        if etype == "input_audio_buffer.append" and not self._done and s.session_created is None:
            self._early(seq, t, etype)

    def wants_counted(self, s: SessionState, etype: str) -> bool:
        # only an append before session.created is early (a server delta never is)
        return etype == "input_audio_buffer.append" and not self._done and s.session_created is None


class SentBeforeSessionUpdated(Rule):
    """Audio, ``response.create`` or an item was sent between a ``session.update`` and its ack.

    The update applies only when ``session.updated`` arrives. Audio and responses that race it
    use the previous settings (modalities, voice, VAD, transcription). Reported when the ack
    arrives, so an excerpt that lacks the ack says nothing.

    Fix: after ``session.update``, wait for ``session.updated`` before sending audio,
    ``response.create`` or items that depend on the new settings.

    Example: ``session.update`` (modalities ["text","audio"]) → ``input_audio_buffer.append`` →
    ``session.updated``.
    """

    name = "sent-before-session-updated"
    severity = Severity.WARNING
    types = frozenset({"session.updated", "transcription_session.updated"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        req = m.request
        if req is None or req.type not in _UPDATES:
            return
        racing = [r for r in s.requests if req.seq < r.seq < m.seq and r.type in _RACING]
        appends = s.last_append_seq is not None and s.last_append_seq > req.seq
        if not racing and not appends:
            return
        types = sorted(
            {r.type for r in racing} | ({"input_audio_buffer.append"} if appends else set())
        )
        first = racing[0].seq if racing else None
        self.report(
            s,
            first if first is not None else req.seq,
            racing[0].t if racing else req.t,
            f"{', '.join(types)} sent after session.update (seq {req.seq}) and before its "
            "session.updated",
            "wait for session.updated before sending audio, items or response.create",
            update_seq=req.seq,
            updated_seq=m.seq,
            racing_seqs=[r.seq for r in racing][:20] or None,
            gap_ms=gap_ms(m.t, req.t),
        )


class SessionUpdateRejected(Rule):
    """A ``session.update`` was answered by an ``error``: none of its fields applied.

    A rejected update is refused as a whole, so the session keeps running on its previous
    (often default) settings: instructions, voice, VAD, transcription silently "ignored". Typical
    causes: GA without ``session.type``, beta fields in GA (``voice``, ``modalities`` at top
    level), formats as strings in GA, unknown keys, ``cannot_update_voice``. The finding lists
    what was requested and what is in effect.

    Fix: correct the field the error's ``param`` names and check ``session.updated``.

    Example: ``session.update`` ``{"session":{"modalities":["text"]}}`` (GA) → ``error``
    ``missing_required_parameter`` ``session.type``.
    """

    name = "session-update-rejected"
    severity = Severity.ERROR
    types = frozenset({"error"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        err = m.error
        if err is None or err.request is None or err.request.type not in _UPDATES:
            return
        req = err.request
        requested = normalize_session(req.event.get("session"))
        effective = {k: s.config.get(k) for k in requested}
        self.report(
            s,
            m.seq,
            m.t,
            f"session.update (seq {req.seq}) was rejected ({err.code or err.type}: "
            f"{err.message}); none of its fields applied",
            f"fix {err.param or 'the field the error names'} and resend; check session.updated",
            update_seq=req.seq,
            code=err.code,
            param=err.param,
            link=err.link,
            requested=requested,
            effective=effective,
        )


def _contains(want: Any, have: Any) -> bool:
    """Whether ``have`` reflects ``want`` (dicts: every requested key matches)."""
    if isinstance(want, dict) and isinstance(have, dict):
        return all(k in have and _contains(v, have[k]) for k, v in want.items())
    if isinstance(want, float | int) and isinstance(have, float | int):
        return abs(float(want) - float(have)) < 1e-6
    return bool(want == have)


class UpdateNotApplied(Rule):
    """A ``session.updated`` does not reflect a field its ``session.update`` asked for.

    ``session.updated`` carries the full effective config. When a requested value (voice,
    modalities, formats, turn detection, transcription, instructions…) is not there, the server
    ignored or overrode it; e.g. the voice cannot change once assistant audio exists.

    Fix: compare ``session.updated`` with what you sent; set the voice before the first audio
    response; use the field names of your dialect.

    Example: ``session.update`` ``{"voice":"ash"}`` → ``session.updated`` ``{"voice":"alloy"}``.
    """

    name = "update-not-applied"
    severity = Severity.WARNING
    types = frozenset({"session.updated", "transcription_session.updated"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        req: ClientRequest | None = m.request
        if req is None or m.config is None:
            return
        requested = normalize_session(req.event.get("session"))
        effective = normalize_session(m.event.get("session"))
        missing = {
            k: {"requested": v, "effective": effective.get(k)}
            for k, v in requested.items()
            if k in effective and not _contains(v, effective[k])
        }
        if not missing:
            return
        self.report(
            s,
            m.seq,
            m.t,
            f"session.updated does not reflect the requested {', '.join(sorted(missing))}",
            "check session.updated after each update; the voice cannot change after the first "
            "assistant audio",
            update_seq=req.seq,
            fields=missing,
        )


class MissingAck(Rule):
    """A client event that expects an acknowledgement got neither it nor an error within 5 s.

    Every client event except ``input_audio_buffer.append`` is answered: ``session.update`` by
    ``session.updated``, ``conversation.item.create`` by ``conversation.item.created``/``added``,
    ``response.create`` by ``response.created``, and so on (or by an ``error``). Silence means the
    event was lost, ignored by a non-conforming server, or the connection stalled. Needs
    timestamps: pasted logs without times say nothing.

    Fix: check that the event reached the server (relay, data channel not open yet) and that the
    server supports it.

    Example: ``session.update`` at 0.0 s and no ``session.updated`` nor ``error`` by 5.0 s.
    """

    name = "missing-ack"
    severity = Severity.WARNING

    def on_time(self, s: SessionState, t: float) -> None:
        for req in s.pending:
            if req.t is None or self.name in req.flagged_by or t - req.t <= ACK_TIMEOUT_S:
                continue
            req.flagged_by.add(self.name)
            self.report(
                s,
                req.seq,
                req.t,
                f"{req.type} got no acknowledgement or error within {ACK_TIMEOUT_S:.0f} s",
                "check that the event reached the server and that the server supports it",
                waited_ms=gap_ms(t, req.t),
                event_id=req.event_id,
            )
