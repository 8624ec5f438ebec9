"""Rules about responses: missing audio, failed/incomplete/stalled responses, collisions, order."""

from __future__ import annotations

from typing import Any

from ...protocol.config import has_audio
from ...protocol.session import Msg, Response, SessionState
from ..findings import Severity
from ..registry import ALL_COUNTED, Rule
from ._util import explaining_rule, gap_ms

#: a modality change this close before the input that triggered a response is a race
RACE_WINDOW_MS = 1500


class TextOnlyResponse(Rule):
    """A response answered in text only although its modalities include audio.

    The response finished (``response.done``) with text content, no audio part, no audio deltas
    and ``audio_tokens`` 0, while the modalities in force for it (echoed in ``response.created``,
    else requested in ``response.create``, else the effective session config) include ``audio``.
    A text-only answer while the modalities are text-only is correct and never flagged.

    ``details.cause`` says why, when the capture shows it:

    - ``modality-switch-race``: the modalities were switched to include audio just before (the
      update was sent or acknowledged shortly before the input that triggered this response, or
      it was still unacknowledged); the server answered with the old modalities. ``gap_ms`` gives
      the gap when the capture has timestamps.
    - ``text-history``: the client seeded ``system`` items or assistant *text* items with
      ``conversation.item.create``; the model then tends to stay in text.
    - ``unknown``.

    Fix: after changing modalities wait for ``session.updated`` before sending audio or
    ``response.create``, or pass the modalities explicitly in ``response.create``; for seeded
    history, prefer a summary in ``instructions`` over assistant text items.

    Example: ``session.updated`` (modalities ["text","audio"]) → user speaks at once →
    ``response.done`` with only a ``text`` part and ``audio_tokens: 0``.
    """

    name = "text-only-response"
    severity = Severity.ERROR
    types = frozenset({"response.done"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        r = m.response
        if r is None or r.done_seq != m.seq or r.status not in (None, "completed"):
            return
        if not has_audio(r.modalities) or r.produced_audio:
            return
        if not (r.content_types & {"text", "output_text"} or r.text_events):
            return  # e.g. only a function call: no audio expected
        cause, evidence = self._cause(s, r)
        hints = {
            "modality-switch-race": "wait for session.updated (and send audio only after it) "
            "before the turn that needs audio, or send response.create with explicit modalities",
            "text-history": "seed history as a summary in instructions instead of system or "
            "assistant text items; the model tends to answer in text after text history",
            "unknown": "check the modalities echoed in response.created and the seeded history",
        }
        self.report(
            s,
            m.seq,
            m.t,
            f"response {r.id} came back as text only although its modalities "
            f"{r.modalities} include audio",
            hints[cause],
            cause=cause,
            response_id=r.id,
            created_seq=r.created_seq,
            modalities=r.modalities,
            audio_tokens=r.audio_tokens,
            **evidence,
        )

    def _cause(self, s: SessionState, r: Response) -> tuple[str, dict[str, Any]]:
        created = r.created_seq if r.created_seq is not None else r.done_seq or 0
        trigger_seq, trigger_t = _trigger(s, r, created)
        # modality change acknowledged before this response, with no response in between
        for change in reversed(s.config_history):
            if change.seq >= created:
                continue
            if change.type.endswith(".created"):
                break
            if "modalities" not in change.changed:
                continue
            between = [
                o
                for o in s.response_order
                if o is not r and o.created_seq is not None and change.seq < o.created_seq < created
            ]
            if between:
                break  # not the first response after the change
            gap = gap_ms(trigger_t, change.t)
            if gap is None or gap < RACE_WINDOW_MS:
                return "modality-switch-race", {
                    "update_seq": change.request.seq if change.request else None,
                    "updated_seq": change.seq,
                    "trigger_seq": trigger_seq,
                    "gap_ms": gap,
                }
            break
        # a modality change requested but not yet acknowledged when the response was created
        for req in s.updates:
            if req.seq < created and (req.ack_seq is None or req.ack_seq > created):
                session = req.event.get("session")
                if isinstance(session, dict) and (
                    "modalities" in session or "output_modalities" in session
                ):
                    return "modality-switch-race", {
                        "update_seq": req.seq,
                        "trigger_seq": trigger_seq,
                        "gap_ms": gap_ms(trigger_t, req.t),
                        "acknowledged": False,
                    }
        system_items = [seq for seq in s.system_items if seq <= created]
        assistant_text = [seq for seq in s.assistant_text_items if seq <= created]
        if system_items or assistant_text:
            return "text-history", {
                "system_item_seqs": system_items or None,
                "assistant_text_item_seqs": assistant_text or None,
            }
        return "unknown", {}


def _trigger(s: SessionState, r: Response, created: int) -> tuple[int | None, float | None]:
    """The input that started a response: its response.create, else the last speech start."""
    if r.request is not None:
        return r.request.seq, r.request.t
    spans = [sp for sp in s.spans if sp.start_seq < created]
    if spans:
        return spans[-1].start_seq, spans[-1].start_t
    return r.created_seq, r.created_t


class ResponseFailed(Rule):
    """A response ended with status ``failed``.

    ``response.done`` with ``status: "failed"`` carries the reason in
    ``status_details.error`` (type, code, message): a transient ``server_error``, a rate limit or
    an exhausted quota. The user gets no answer, and many apps never read the status.

    Fix: read ``response.done.response.status`` and ``status_details``; retry transient server
    errors, check quota and rate limits for the others.

    Example: ``{"type":"response.done","response":{"status":"failed","status_details":{"error":
    {"type":"server_error","message":"The server had an error…"}}}}``.
    """

    name = "response-failed"
    severity = Severity.ERROR
    types = frozenset({"response.done"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        r = m.response
        if r is None or r.done_seq != m.seq or r.status != "failed":
            return
        details = r.status_details if isinstance(r.status_details, dict) else {}
        err: dict[str, Any] = details["error"] if isinstance(details.get("error"), dict) else {}
        code = err.get("code") or err.get("type")
        text = err.get("message")
        self.report(
            s,
            m.seq,
            m.t,
            f"response {r.id} failed" + (f": {code}: {text}" if code or text else ""),
            "read response.done status_details; retry server errors, check rate limits and quota",
            response_id=r.id,
            status_details=r.status_details,
        )


class ResponseIncomplete(Rule):
    """A response ended with status ``incomplete`` (token limit or content filter).

    The answer stops mid-sentence: ``status_details.reason`` is ``max_output_tokens`` (the
    response hit ``max_output_tokens`` / ``max_response_output_tokens``) or ``content_filter``.

    Fix: raise the output-token limit, or handle the content-filter case in the app.

    Example: ``response.done`` with ``{"status":"incomplete","status_details":{"type":
    "incomplete","reason":"max_output_tokens"}}``.
    """

    name = "response-incomplete"
    severity = Severity.WARNING
    types = frozenset({"response.done"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        r = m.response
        if r is None or r.done_seq != m.seq or r.status != "incomplete":
            return
        details = r.status_details if isinstance(r.status_details, dict) else {}
        reason = details.get("reason")
        hint = (
            "raise max_output_tokens (max_response_output_tokens in beta)"
            if reason == "max_output_tokens"
            else "the content filter stopped the answer; handle it in the app"
            if reason == "content_filter"
            else "read status_details.reason"
        )
        self.report(
            s,
            m.seq,
            m.t,
            f"response {r.id} is incomplete ({reason or 'no reason given'})",
            hint,
            response_id=r.id,
            reason=reason,
            max_output_tokens=s.config.get("max_output_tokens"),
        )


class ResponseNeverDone(Rule):
    """A response was created but never finished (no ``response.done``).

    Every ``response.created`` should be followed by exactly one ``response.done`` with the same
    id. A response still open at the end of the connection or capture stalled: the server (or an
    emulator, or a relay) stopped producing it. The finding says what did arrive (nothing but
    ``rate_limits.updated``, some deltas, an error) and for how long it was pending.

    Fix: nothing in the client's order of requests causes this; add a timeout that cancels
    (``response.cancel``) and retries, and report the response id to the provider.

    Example: ``response.created`` → ``rate_limits.updated`` → (nothing more).
    """

    name = "response-never-done"
    severity = Severity.ERROR

    def on_finish(self, s: SessionState) -> None:
        for r in s.response_order:
            if r.created_seq is None or r.done_seq is not None:
                continue
            pending = gap_ms(s.last_t, r.created_t)
            later = [e for e in s.errors if e.seq > r.created_seq]
            after = [t for seq, t in s.server_tail if seq > r.created_seq]
            if r.events > 1:
                what = f"{r.events - 1} more event(s) of it, the last {r.last_type}"
            elif after:
                what = f"only {', '.join(dict.fromkeys(after))} followed"
            else:
                what = "nothing followed response.created"
            msg = f"response {r.id} was created but never finished: {what}"
            if pending is not None:
                msg += f", pending {pending / 1000:.1f} s until the end"
            self.report(
                s,
                r.created_seq,
                r.created_t,
                msg,
                "not caused by the request order; time out, send response.cancel and retry, "
                "and report the response id to the provider",
                response_id=r.id,
                pending_ms=pending,
                events_after_created=r.events - 1,
                last_event=r.last_type,
                server_events_after=after or None,
                audio_ms=r.audio_ms,
                error_seqs=[e.seq for e in later] or None,
                closed=s.close is not None or None,
            )


class ActiveResponseCollision(Rule):
    """``response.create`` sent while another response is still in progress.

    Only one default-conversation response can run at a time; the server answers the second
    ``response.create`` with ``conversation_already_has_active_response`` and never produces the
    requested reply. Typical causes: a manual ``response.create`` racing a VAD auto-response
    (``create_response: true``), one create per tool output.

    Fix: wait for ``response.done`` before creating the next response, or disable
    ``create_response`` when you create responses yourself; out-of-band responses use
    ``"conversation": "none"``.

    Example: ``response.created`` (VAD) → client ``response.create`` → ``error``
    ``conversation_already_has_active_response``.
    """

    name = "active-response-collision"
    severity = Severity.WARNING
    types = frozenset({"response.create", "error"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type == "response.create" and m.request is not None:
            params = m.event.get("response")
            if isinstance(params, dict) and params.get("conversation") == "none":
                return
            if m.active_before:
                active = m.active_before[-1]
                m.request.flagged_by.add(self.name)  # its error is then explained
                self.report(
                    s,
                    m.seq,
                    m.t,
                    f"response.create sent while response {active.id} is still in progress",
                    "wait for response.done before the next response.create, or turn off "
                    "create_response in turn_detection when creating responses yourself",
                    active_response_id=active.id,
                    active_created_seq=active.created_seq,
                )
        elif m.error is not None and m.error.code == "conversation_already_has_active_response":
            req = m.error.request
            if req is not None and self.name in req.flagged_by:
                return
            self.report(
                s,
                m.seq,
                m.t,
                "the server refused a response.create: a response is already in progress",
                "wait for response.done before the next response.create",
                request_seq=req.seq if req else None,
                error_message=m.error.message,
            )


class LifecycleViolation(Rule):
    """Server events out of their lifecycle order.

    Deltas belong between ``response.content_part.added`` and ``.done``; no event of a response
    may follow its ``response.done``; a response has one ``response.done``, after its
    ``response.created``. Violations come from emulators, relays and third-party servers and
    break clients that rely on the order. Checks that need the whole stream (an event for a
    response never created) run only on recorded connections, not on pasted excerpts.

    Fix: on the server side, emit events in the documented order; on the client side, do not
    assume it when talking to non-OpenAI servers.

    Example: ``response.done`` (resp_1) → ``response.output_audio.delta`` (resp_1).
    """

    name = "lifecycle-violation"
    severity = Severity.WARNING
    #: the fast path takes only events that violate nothing
    fast_events = ALL_COUNTED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[tuple[str, str | None]] = set()

    def on_message(self, s: SessionState, m: Msg) -> None:
        for v in m.violations:
            key = (v.kind, v.response_id)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.report(
                s,
                v.seq,
                v.t,
                f"server event out of order: {v.text}",
                "emit events in the documented order (content part, deltas, part done, "
                "item done, response.done)",
                kind=v.kind,
                response_id=v.response_id,
            )


class ServerError(Rule):
    """An ``error`` event, linked to the client event that caused it.

    Most errors leave the session open, so apps that do not log ``error`` events never learn of
    them. Each error is linked to its client event: by ``error.event_id``, else by its code or
    ``param`` (a ``session.`` param points at the last ``session.update``), else by timing (the
    last unacknowledged client event); ``details.link`` says which. Errors a more specific rule
    reports (a rejected ``session.update``, an active-response collision, an empty commit, a
    rejected tool output, a truncate out of range, an expired session, a client event that
    ``invalid-client-event`` already flagged) are left to that rule.

    Fix: log every ``error`` event with its ``code``, ``param`` and ``event_id``; send an
    ``event_id`` with client events so errors can be matched.

    Example: ``{"type":"error","error":{"type":"invalid_request_error","code":"invalid_value",
    "param":"item.content[0].type", "event_id":null}}``.
    """

    name = "server-error"
    severity = Severity.ERROR
    types = frozenset({"error"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        err = m.error
        if err is None:
            return
        better = explaining_rule(s, err)
        if better is not None and better in self.active:
            return
        req = err.request
        severity = Severity.INFO if err.code == "response_cancel_not_active" else None
        what = err.code or err.type or "error"
        msg = f"the server sent an error: {what}: {err.message}".rstrip(": ")
        if req is not None:
            msg += f" (caused by {req.type} at seq {req.seq})"
        self.report(
            s,
            m.seq,
            m.t,
            msg,
            "log every error event; fix the client event it points at"
            + (f" ({err.param})" if err.param else ""),
            severity=severity,
            code=err.code,
            error_type=err.type,
            param=err.param,
            error_event_id=err.event_id,
            request_seq=req.seq if req else None,
            request_type=req.type if req else None,
            link=err.link,
        )
