"""The simulator's sans-I/O core: one Realtime session as a state machine.

Theory of operation. The shell owns the socket and the clock; the core owns everything else:

- :meth:`Simulator.receive` takes one client message and the current time and *schedules* the
  server's answers (events, or a close) at times of their own;
- :meth:`Simulator.due` returns, in order, every scheduled action whose time has come, applying
  its side effects as it goes (a response stops being active when its ``response.done`` is due);
- :meth:`Simulator.next_due` tells the shell how long it may wait for the next client message.

A response is scheduled whole when it starts (its deltas paced by ``delta_interval_ms``); a
cancel or a barge-in drops the rest of it (actions carry the response id as a tag) and schedules
the finishing events. Every behaviour follows /work/shared/reference/realtime-protocol.md;
faults are injected only by the named scenario in :class:`~.scenarios.SimOptions`.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .audio import BYTES_PER_MS, frame_levels, tone
from .scenarios import SimOptions
from .session import (
    Dialect,
    Refusal,
    apply_update,
    audio_format,
    default_session,
    modalities_of,
    turn_detection_of,
    voice_of,
)

__all__ = ["Close", "Send", "Simulator", "SimAction"]

_ALNUM = string.ascii_letters + string.digits
_CANNED = (
    "Sure, I can help with that. This answer comes from the rtscope simulator.",
    "Here is a second simulated answer, paced like a real one.",
    "Of course. Let me know if there is anything else you would like to try.",
)
#: Client event types the simulator knows (both dialects).
_HANDLED = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
)
_ACK_MS = 0.005
_VAD_FRAME_MS = 10


@dataclass(frozen=True)
class Send:
    """Send this event (a dict, serialized by the shell)."""

    event: dict[str, Any]


@dataclass(frozen=True)
class Close:
    """Close the connection; ``code=None`` drops the TCP connection with no close frame."""

    code: int | None
    reason: str = ""


SimAction = Send | Close


@dataclass(order=True)
class _Scheduled:
    at: float
    order: int
    action: SimAction = field(compare=False)
    tag: str | None = field(compare=False, default=None)
    on_emit: Callable[[], None] | None = field(compare=False, default=None)


@dataclass
class _Response:
    id: str
    modalities: list[str]
    echo: dict[str, Any]
    item_id: str | None = None
    text: str = ""
    emitted: list[str] = field(default_factory=list)
    audio_bytes: int = 0
    function_call: dict[str, Any] | None = None
    deltas_sent: int = 0


class Simulator:
    """One simulated Realtime session.

    Args:
        dialect: ``"ga"`` or ``"beta"`` (the shell decides from the handshake).
        options: scenario and timing knobs.
        now: the current time (seconds, the shell's monotonic clock).
        rng: source of ids (pass a seeded one for reproducible ids).
        epoch: wall-clock time (Unix seconds) at ``now``, for ``session.expires_at``; default
            the current time.
    """

    def __init__(
        self,
        dialect: Dialect,
        options: SimOptions | None = None,
        now: float = 0.0,
        rng: random.Random | None = None,
        epoch: float | None = None,
    ) -> None:
        self.dialect: Dialect = dialect
        self.options = options or SimOptions()
        self.start_time = now
        self._rng = rng or random.Random(self.options.seed)
        self._queue: list[_Scheduled] = []
        self._order = 0
        self._dropped: set[str] = set()
        self.closed = False
        self.session = default_session(
            dialect,
            self._id("sess_"),
            self.options.model,
            int((time.time() if epoch is None else epoch) + self.options.session_limit_s),
        )
        self._pending: tuple[float, dict[str, Any]] | None = None
        self._conversation_id = self._id("conv_")
        self.items: list[dict[str, Any]] = []
        self._item_audio_ms: dict[str, int] = {}
        self._buffer = bytearray()
        self._carry = b""
        self._stream_ms = 0
        self._speaking = False
        self._speech_item: str | None = None
        self._last_speech_end = 0
        self.active: _Response | None = None
        self.responses = 0
        self._assistant_audio = False
        self._schedule(now, Send(self._event("session.created", session=self.session)))
        if dialect == "beta":
            conversation = {"id": self._conversation_id, "object": "realtime.conversation"}
            self._schedule(
                now, Send(self._event("conversation.created", conversation=conversation))
            )
        limit = self.options.session_limit_s
        minutes = f"{limit / 60:g}"
        message = f"Your session hit the maximum duration of {minutes} minutes."
        self._schedule(now + limit, Send(self._error("session_expired", message, None)))
        self._schedule(now + limit, Close(1001, message))

    # -- shell interface -------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next scheduled action is due, or ``None`` when nothing is scheduled."""
        while self._queue and self._queue[0].tag in self._dropped:
            heapq.heappop(self._queue)
        return self._queue[0].at if self._queue else None

    def due(self, now: float) -> list[SimAction]:
        """Every action due at ``now``, in order; side effects of each are applied."""
        out: list[SimAction] = []
        while not self.closed and self._queue and self._queue[0].at <= now:
            item = heapq.heappop(self._queue)
            if item.tag is not None and item.tag in self._dropped:
                continue
            if item.on_emit is not None:
                item.on_emit()
            out.append(item.action)
            if isinstance(item.action, Close):
                self.closed = True
                self._queue.clear()
        return out

    def receive(self, now: float, data: str | bytes) -> None:
        """One client message (a text frame as ``str``, a binary frame as ``bytes``)."""
        if self.closed:
            return
        self._apply_pending(now)
        if isinstance(data, bytes):
            self._refuse(now, "invalid_event", "Binary frames are not supported; send JSON text.")
            return
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._refuse(
                now,
                "invalid_event",
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
            )
            return
        if not isinstance(event, dict):
            self._refuse(now, "invalid_event", "Expected an object, but got a different type.")
            return
        client_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        etype = event.get("type")
        if not isinstance(etype, str):
            self._refuse(now, "invalid_event", "The 'type' field is missing.", "type", client_id)
            return
        if etype not in _HANDLED:
            supported = ", ".join(f"'{t}'" for t in _HANDLED)
            self._refuse(
                now,
                "invalid_event",
                f"Invalid value: '{etype}'. Supported values are: {supported}.",
                "type",
                client_id,
            )
            return
        handler = getattr(self, "_on_" + etype.replace(".", "_"))
        handler(now, event, client_id)

    # -- helpers ---------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return prefix + "".join(self._rng.choice(_ALNUM) for _ in range(21))

    def _event(self, etype: str, **fields: Any) -> dict[str, Any]:
        return {"type": etype, "event_id": self._id("event_"), **fields}

    def _error(
        self,
        code: str | None,
        message: str,
        param: str | None,
        client_id: str | None = None,
        etype: str = "invalid_request_error",
    ) -> dict[str, Any]:
        error = {
            "type": etype,
            "code": code,
            "message": message,
            "param": param,
            "event_id": client_id,
        }
        return self._event("error", error=error)

    def _schedule(
        self,
        at: float,
        action: SimAction,
        tag: str | None = None,
        on_emit: Callable[[], None] | None = None,
    ) -> None:
        self._order += 1
        heapq.heappush(self._queue, _Scheduled(at, self._order, action, tag, on_emit))

    def _send(self, at: float, etype: str, tag: str | None = None, **fields: Any) -> None:
        self._schedule(at, Send(self._event(etype, **fields)), tag)

    def _refuse(
        self,
        now: float,
        code: str | None,
        message: str,
        param: str | None = None,
        client_id: str | None = None,
    ) -> None:
        self._schedule(now + _ACK_MS, Send(self._error(code, message, param, client_id)))

    def _apply_pending(self, now: float) -> None:
        if self._pending is not None and now >= self._pending[0]:
            self.session = self._pending[1]
            self._pending = None

    @property
    def _requested(self) -> dict[str, Any]:
        """The session as last accepted (what session.updated says), applied or not yet."""
        return self._pending[1] if self._pending is not None else self.session

    def _find(self, item_id: Any) -> int | None:
        for index, item in enumerate(self.items):
            if item.get("id") == item_id:
                return index
        return None

    def _previous_id(self) -> str | None:
        return str(self.items[-1]["id"]) if self.items else None

    def _add_item(self, now: float, item: dict[str, Any], previous: Any = None) -> None:
        """Insert ``item`` and schedule its ack (beta ``created``; GA ``added`` + ``done``)."""
        if previous == "root":
            index, prev_id = 0, None
        elif isinstance(previous, str):
            found = self._find(previous)
            assert found is not None
            index, prev_id = found + 1, previous
        else:
            index, prev_id = len(self.items), self._previous_id()
        self.items.insert(index, item)
        if self.dialect == "beta":
            self._send(now, "conversation.item.created", previous_item_id=prev_id, item=item)
        else:
            self._send(now, "conversation.item.added", previous_item_id=prev_id, item=item)
            self._send(now, "conversation.item.done", previous_item_id=prev_id, item=item)

    # -- session ---------------------------------------------------------------------------

    def _on_session_update(self, now: float, event: dict[str, Any], client_id: str | None) -> None:
        base = self._requested
        result = apply_update(
            base, event.get("session"), self.dialect, audio_sent=self._assistant_audio
        )
        if isinstance(result, Refusal):
            self._schedule(
                now + _ACK_MS,
                Send(self._error(result.code, result.message, result.param, client_id)),
            )
            return
        changed = modalities_of(result, self.dialect) != modalities_of(base, self.dialect)
        at = now + _ACK_MS
        if self.options.scenario == "modality-race" and (changed or self._pending is not None):
            at = max(
                now + self.options.race_delay_ms / 1000, self._pending[0] if self._pending else 0.0
            )
            self._pending = (at, result)
        else:
            self.session = result
        self._schedule(at, Send(self._event("session.updated", session=result)))

    # -- input audio -----------------------------------------------------------------------

    def _on_input_audio_buffer_append(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        audio = event.get("audio")
        try:
            if not isinstance(audio, str):
                raise ValueError
            data = base64.b64decode(audio, validate=True)
        except (ValueError, binascii.Error):
            self._refuse(
                now,
                "invalid_value",
                "Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but "
                "got a value that could not be decoded.",
                "audio",
                client_id,
            )
            return
        fmt = audio_format(self.session, self.dialect, "input")
        self._buffer += data
        td = turn_detection_of(self.session, self.dialect)
        if td is None:
            self._stream_ms += len(data) // BYTES_PER_MS[fmt]
            return
        self._run_vad(now, self._carry + data, fmt, td)

    def _run_vad(self, now: float, data: bytes, fmt: str, td: dict[str, Any]) -> None:
        frame_bytes = BYTES_PER_MS[fmt] * _VAD_FRAME_MS
        whole = len(data) - len(data) % frame_bytes
        self._carry = data[whole:]
        # threshold 0.5 (the default) → speech above 2 % of full scale (about -34 dBFS).
        level_threshold = float(td.get("threshold", 0.5)) * 0.04
        silence_ms = int(td.get("silence_duration_ms", 500) or 500)
        if td.get("type") == "semantic_vad":
            silence_ms = 500
        prefix_ms = int(td.get("prefix_padding_ms", 300) or 0)
        for level in frame_levels(data[:whole], fmt, _VAD_FRAME_MS):
            position = self._stream_ms
            self._stream_ms += _VAD_FRAME_MS
            if level > level_threshold:
                self._last_speech_end = self._stream_ms
                if not self._speaking:
                    self._speaking = True
                    self._speech_item = self._id("item_")
                    self._send(
                        now,
                        "input_audio_buffer.speech_started",
                        audio_start_ms=max(0, position - prefix_ms),
                        item_id=self._speech_item,
                    )
                    if self.active is not None and td.get("interrupt_response", True):
                        self._cancel(now, "turn_detected")
            elif self._speaking and self._stream_ms - self._last_speech_end >= silence_ms:
                self._speaking = False
                item_id = self._speech_item or self._id("item_")
                self._send(
                    now,
                    "input_audio_buffer.speech_stopped",
                    audio_end_ms=self._stream_ms,
                    item_id=item_id,
                )
                self._commit(now, item_id)
                if td.get("create_response", True) and self.active is None:
                    self._start_response(now, {})

    def _commit(self, now: float, item_id: str) -> None:
        prev = self._previous_id()
        self._send(now, "input_audio_buffer.committed", previous_item_id=prev, item_id=item_id)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self._buffer.clear()
        self._add_item(now, item)
        transcription = (
            self.session.get("input_audio_transcription")
            if self.dialect == "beta"
            else self.session.get("audio", {}).get("input", {}).get("transcription")
        )
        if transcription:
            self._send(
                now + 0.05,
                "conversation.item.input_audio_transcription.completed",
                item_id=item_id,
                content_index=0,
                transcript="(simulated transcript of the user's audio)",
            )

    def _on_input_audio_buffer_commit(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        fmt = audio_format(self.session, self.dialect, "input")
        ms = len(self._buffer) / BYTES_PER_MS[fmt]
        if ms < 100:
            self._refuse(
                now,
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {ms:.2f}ms of audio.",
                None,
                client_id,
            )
            return
        self._speaking = False
        self._commit(now + _ACK_MS, self._speech_item or self._id("item_"))
        self._speech_item = None

    def _on_input_audio_buffer_clear(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        self._buffer.clear()
        self._carry = b""
        self._speaking = False
        self._speech_item = None
        self._send(now + _ACK_MS, "input_audio_buffer.cleared")

    # -- conversation items ----------------------------------------------------------------

    def _check_item(self, item: Any) -> tuple[str, str, str] | None:
        """``(code, message, param)`` when the item is refused."""
        if not isinstance(item, dict):
            return ("missing_required_parameter", "Missing required parameter: 'item'.", "item")
        itype = item.get("type", "message")
        if itype == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str):
                return (
                    "missing_required_parameter",
                    "Missing required parameter: 'item.call_id'.",
                    "item.call_id",
                )
            if not any(
                i.get("call_id") == call_id and i.get("type") == "function_call" for i in self.items
            ):
                return (
                    "invalid_tool_call_id",
                    f"Tool call ID '{call_id}' not found in conversation.",
                    "item.call_id",
                )
            return None
        if itype == "function_call":
            return None
        if itype != "message":
            return (
                "invalid_value",
                f"Invalid value: '{itype}'. Supported values are: 'message', 'function_call', "
                "and 'function_call_output'.",
                "item.type",
            )
        role = item.get("role")
        content = item.get("content")
        if role not in ("user", "system", "assistant"):
            return (
                "invalid_value",
                f"Invalid value: '{role}'. Supported values are: 'user', 'assistant', and "
                "'system'.",
                "item.role",
            )
        if not isinstance(content, list):
            return (
                "invalid_type",
                "Invalid type for 'item.content': expected an array.",
                "item.content",
            )
        allowed = _allowed_content(self.dialect, role)
        for index, part in enumerate(content):
            ctype = part.get("type") if isinstance(part, dict) else None
            if ctype not in allowed:
                values = " and ".join(f"'{a}'" for a in allowed)
                return (
                    "invalid_value",
                    f"Invalid value: '{ctype}'. Supported values are: {values}.",
                    f"item.content[{index}].type",
                )
            if ctype in ("input_text", "text", "output_text") and not isinstance(
                part.get("text"), str
            ):
                return (
                    "missing_required_parameter",
                    f"Missing required parameter: 'item.content[{index}].text'.",
                    f"item.content[{index}].text",
                )
        return None

    def _on_conversation_item_create(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        item = event.get("item")
        problem = self._check_item(item)
        previous = event.get("previous_item_id")
        if problem is None and isinstance(previous, str) and previous != "root":
            if self._find(previous) is None:
                problem = (
                    "invalid_value",
                    f"Previous item with id '{previous}' not found.",
                    "previous_item_id",
                )
        if problem is not None:
            self._refuse(now, *problem, client_id)
            return
        assert isinstance(item, dict)
        stored = {
            "id": item.get("id") or self._id("item_"),
            "object": "realtime.item",
            "type": item.get("type", "message"),
            "status": "completed",
            **{k: v for k, v in item.items() if k not in ("id", "object", "status")},
        }
        self._add_item(now + _ACK_MS, stored, previous)

    def _on_conversation_item_retrieve(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        index = self._find(event.get("item_id"))
        if index is None:
            self._not_found(now, event, client_id)
            return
        self._send(now + _ACK_MS, "conversation.item.retrieved", item=self.items[index])

    def _on_conversation_item_delete(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        index = self._find(event.get("item_id"))
        if index is None:
            self._not_found(now, event, client_id)
            return
        del self.items[index]
        self._send(now + _ACK_MS, "conversation.item.deleted", item_id=event["item_id"])

    def _not_found(self, now: float, event: dict[str, Any], client_id: str | None) -> None:
        self._refuse(
            now,
            "item_not_found",
            f"Item with item_id '{event.get('item_id')}' not found.",
            "item_id",
            client_id,
        )

    def _on_conversation_item_truncate(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        item_id = event.get("item_id")
        index = self._find(item_id)
        if index is None:
            self._not_found(now, event, client_id)
            return
        item = self.items[index]
        content_index = event.get("content_index", 0)
        content = item.get("content") or []
        has_audio = (
            isinstance(content_index, int)
            and 0 <= content_index < len(content)
            and (content[content_index].get("type") in ("audio", "output_audio"))
        )
        if item.get("role") != "assistant" or not has_audio:
            self._refuse(
                now,
                "unsupported_content_type",
                "Only model output audio messages can be truncated",
                None,
                client_id,
            )
            return
        requested = event.get("audio_end_ms")
        if not isinstance(requested, int) or requested < 0:
            self._refuse(now, "invalid_value", "Invalid 'audio_end_ms'.", "audio_end_ms", client_id)
            return
        generated = self._item_audio_ms.get(str(item_id), 0)
        if requested > generated:
            self._refuse(
                now,
                "invalid_value",
                f"Audio content of {generated}ms is already shorter than {requested}ms",
                "audio_end_ms",
                client_id,
            )
            requested = generated
        content[content_index]["transcript"] = ""
        self._item_audio_ms[str(item_id)] = requested
        self._send(
            now + _ACK_MS,
            "conversation.item.truncated",
            item_id=item_id,
            content_index=content_index,
            audio_end_ms=requested,
        )

    # -- responses -------------------------------------------------------------------------

    def _on_response_create(self, now: float, event: dict[str, Any], client_id: str | None) -> None:
        params = event.get("response") or {}
        if not isinstance(params, dict):
            self._refuse(now, "invalid_type", "Invalid type for 'response'.", "response", client_id)
            return
        key = "modalities" if self.dialect == "beta" else "output_modalities"
        mods = params.get(key)
        valid = (["text"], ["audio", "text"]) if self.dialect == "beta" else (["text"], ["audio"])
        if mods is not None and (not isinstance(mods, list) or sorted(mods) not in valid):
            self._refuse(
                now,
                "invalid_value",
                f"Invalid 'response.{key}': {mods}.",
                f"response.{key}",
                client_id,
            )
            return
        if self.active is not None:
            self._refuse(
                now,
                "conversation_already_has_active_response",
                "Conversation already has an active response in progress: "
                f"{self.active.id}. Wait until the response is finished before creating a new "
                "one.",
                None,
                client_id,
            )
            return
        self._start_response(now + _ACK_MS, params)

    def _on_response_cancel(self, now: float, event: dict[str, Any], client_id: str | None) -> None:
        wanted = event.get("response_id")
        if self.active is None or (wanted is not None and wanted != self.active.id):
            self._refuse(
                now,
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                None,
                client_id,
            )
            return
        self._cancel(now + _ACK_MS, "client_cancelled")

    def _response_echo(self, rid: str, requested_mods: list[str]) -> dict[str, Any]:
        session = self._requested
        base: dict[str, Any] = {
            "object": "realtime.response",
            "id": rid,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": self._conversation_id,
        }
        if self.dialect == "beta":
            base |= {
                "modalities": requested_mods,
                "voice": voice_of(session, "beta"),
                "output_audio_format": audio_format(session, "beta", "output"),
                "temperature": session.get("temperature", 0.8),
                "max_output_tokens": session.get("max_response_output_tokens", "inf"),
            }
        else:
            base |= {
                "output_modalities": requested_mods,
                "audio": {
                    "output": {
                        "format": session["audio"]["output"]["format"],
                        "voice": voice_of(session, "ga"),
                    }
                },
                "max_output_tokens": session.get("max_output_tokens", "inf"),
            }
        return base | {"usage": None, "metadata": None}

    def _start_response(self, now: float, params: dict[str, Any]) -> None:
        key = "modalities" if self.dialect == "beta" else "output_modalities"
        explicit = params.get(key)
        # What the response echoes: the explicit request, else the session as last updated.
        requested = list(explicit) if explicit else modalities_of(self._requested, self.dialect)
        # What it produces: the explicit request, else the session *in effect* (modality-race).
        effective = list(explicit) if explicit else modalities_of(self.session, self.dialect)
        rid = self._id("resp_")
        response = _Response(rid, effective, self._response_echo(rid, requested))
        self.active = response
        self.responses += 1
        scenario = self.options.scenario
        t = now
        self._send(t, "response.created", rid, response=response.echo)
        self._send(t + 0.002, "rate_limits.updated", rid, rate_limits=self._rate_limits())
        t += 0.02
        if scenario == "stalled-response":
            return
        if scenario == "rate-limited":
            error: dict[str, Any] = {
                "type": "invalid_request_error",
                "code": "rate_limit_exceeded",
                "message": "Rate limit reached for tokens. Please try again in 1.2s.",
            }
            self._finish(t, response, "failed", {"type": "failed", "error": error})
            return
        if scenario == "error-storm":
            for _ in range(self.options.error_burst):
                t += 0.005
                self._schedule(
                    t,
                    Send(
                        self._error(
                            None,
                            "The server had an error while processing your "
                            "request. Sorry about that!",
                            None,
                            None,
                            "server_error",
                        )
                    ),
                    rid,
                )
            error = {
                "type": "server_error",
                "code": None,
                "message": "The server had an error while processing your request.",
            }
            self._finish(t + 0.005, response, "failed", {"type": "failed", "error": error})
            return
        if scenario == "slow-first-audio":
            t += self.options.first_audio_delay_ms / 1000
        call = self._tool_call(params)
        if call is not None:
            t = self._schedule_function_call(t, response, call)
        else:
            t = self._schedule_message(t, response)
        self._finish(t, response, "completed", None)

    def _rate_limits(self) -> list[dict[str, Any]]:
        remaining = 0 if self.options.scenario == "rate-limited" else 794385
        tokens = {"name": "tokens", "limit": 800000, "remaining": remaining, "reset_seconds": 0.421}
        if self.dialect == "ga":
            return [tokens]
        return [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            tokens,
        ]

    def _reply_text(self) -> str:
        last = self.items[-1] if self.items else {}
        if last.get("type") == "function_call_output":
            return f"The tool returned: {str(last.get('output', ''))[:80]}"
        return _CANNED[(self.responses - 1) % len(_CANNED)]

    def _tool_call(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The canned call: tools configured, tool_choice allows, and the user asks for it."""
        tools = params.get("tools", self._requested.get("tools")) or []
        choice = params.get("tool_choice", self._requested.get("tool_choice", "auto"))
        functions = [t for t in tools if isinstance(t, dict) and t.get("type") == "function"]
        if not functions or choice == "none":
            return None
        last = self.items[-1] if self.items else {}
        if last.get("type") == "function_call_output":
            return None
        if isinstance(choice, dict) and choice.get("name"):
            named = [f for f in functions if f.get("name") == choice["name"]]
            return named[0] if named else None
        if choice == "required":
            return functions[0]
        said = " ".join(
            str(part.get("text", ""))
            for part in last.get("content") or []
            if isinstance(part, dict)
        ).lower()
        for function in functions:
            name = str(function.get("name", ""))
            if name and (name.lower() in said or name.replace("_", " ").lower() in said):
                return function
        return None

    def _schedule_message(self, t: float, response: _Response) -> float:
        rid = response.id
        text = self._reply_text()  # before the assistant item joins the conversation
        item_id = self._id("item_")
        response.item_id = item_id
        audio = "audio" in response.modalities
        beta = self.dialect == "beta"
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        ids = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
        self._send(t, "response.output_item.added", rid, response_id=rid, output_index=0, item=item)
        prev = self._previous_id()
        self.items.append(item)
        self._send(
            t,
            "conversation.item.created" if beta else "conversation.item.added",
            rid,
            previous_item_id=prev,
            item=item,
        )
        part_type = "audio" if audio else "text"
        empty = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        self._send(t, "response.content_part.added", rid, **ids, part=empty)
        response.text = text
        words = [w + " " for w in text.split(" ")]
        words[-1] = words[-1].rstrip()
        fmt = audio_format(self._requested, self.dialect, "output")
        interval = self.options.delta_interval_ms / 1000
        chunk_ms = self.options.audio_ms_per_delta
        names = _names(self.dialect)
        first = True
        for index, word in enumerate(words):
            t += interval
            delta_kind = names["transcript_delta"] if audio else names["text_delta"]
            self._schedule(
                t,
                Send(self._event(delta_kind, **ids, delta=word)),
                rid,
                self._note_text(response, word, first),
            )
            first = False
            if audio:
                pcm = tone(chunk_ms, fmt, start_ms=index * chunk_ms)
                b64 = base64.b64encode(pcm).decode("ascii")
                self._schedule(
                    t,
                    Send(self._event(names["audio_delta"], **ids, delta=b64)),
                    rid,
                    self._note_audio(response, len(pcm)),
                )
        t += interval
        if audio:
            self._send(t, names["audio_done"], rid, **ids)
            self._send(t, names["transcript_done"], rid, **ids, transcript=text)
            part = {"type": "audio", "transcript": text}
        else:
            self._send(t, names["text_done"], rid, **ids, text=text)
            part = {"type": "text", "text": text}
        assert part["type"] == part_type
        self._send(t, "response.content_part.done", rid, **ids, part=part)
        done_item = {**item, "status": "completed", "content": [_item_part(part, self.dialect)]}
        self._schedule(
            t,
            Send(
                self._event(
                    "response.output_item.done", response_id=rid, output_index=0, item=done_item
                )
            ),
            rid,
            self._note_item(done_item),
        )
        if not beta:
            self._send(t, "conversation.item.done", rid, previous_item_id=prev, item=done_item)
        return t

    def _note_text(self, response: _Response, word: str, first: bool) -> Callable[[], None]:
        def note() -> None:
            response.emitted.append(word)
            response.deltas_sent += 1
            if first and self.options.scenario == "abnormal-close" and self.responses == 1:
                self._schedule(-1.0, Close(None, "abnormal-close scenario"))

        return note

    def _note_audio(self, response: _Response, size: int) -> Callable[[], None]:
        def note() -> None:
            response.audio_bytes += size
            self._assistant_audio = True
            if response.item_id is not None:
                fmt = audio_format(self._requested, self.dialect, "output")
                ms = response.audio_bytes // BYTES_PER_MS[fmt]
                self._item_audio_ms[response.item_id] = ms

        return note

    def _note_item(self, done_item: dict[str, Any]) -> Callable[[], None]:
        def note() -> None:
            index = self._find(done_item["id"])
            if index is not None:
                self.items[index] = done_item

        return note

    def _schedule_function_call(
        self, t: float, response: _Response, function: dict[str, Any]
    ) -> float:
        rid = response.id
        item_id = self._id("item_")
        call_id = "call_" + self._id("")[:16]
        name = str(function.get("name"))
        arguments = orjson.dumps(_canned_arguments(function.get("parameters"))).decode()
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": name,
            "call_id": call_id,
            "arguments": "",
        }
        response.item_id = item_id
        self._send(t, "response.output_item.added", rid, response_id=rid, output_index=0, item=item)
        prev = self._previous_id()
        self.items.append(item)
        beta = self.dialect == "beta"
        self._send(
            t,
            "conversation.item.created" if beta else "conversation.item.added",
            rid,
            previous_item_id=prev,
            item=item,
        )
        ids = {"response_id": rid, "item_id": item_id, "output_index": 0}
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            t += self.options.delta_interval_ms / 1000
            self._send(
                t,
                "response.function_call_arguments.delta",
                rid,
                **ids,
                call_id=call_id,
                delta=piece,
            )
        self._send(
            t,
            "response.function_call_arguments.done",
            rid,
            **ids,
            call_id=call_id,
            name=name,
            arguments=arguments,
        )
        done_item = {**item, "status": "completed", "arguments": arguments}
        response.function_call = done_item
        self._schedule(
            t,
            Send(
                self._event(
                    "response.output_item.done", response_id=rid, output_index=0, item=done_item
                )
            ),
            rid,
            self._note_item(done_item),
        )
        if not beta:
            self._send(t, "conversation.item.done", rid, previous_item_id=prev, item=done_item)
        return t

    def _output_of(self, response: _Response, status: str) -> list[dict[str, Any]]:
        if response.function_call is not None:
            return [response.function_call]
        if response.item_id is None:
            return []
        index = self._find(response.item_id)
        item = self.items[index] if index is not None else {}
        if status != "completed":
            text = "".join(response.emitted)
            audio = "audio" in response.modalities
            part = (
                {"type": "audio", "transcript": text} if audio else {"type": "text", "text": text}
            )
            return [{**item, "status": "incomplete", "content": [_item_part(part, self.dialect)]}]
        return [item] if item else []

    def _finish(
        self,
        t: float,
        response: _Response,
        status: str,
        details: dict[str, Any] | None,
        tag: str | None = None,
    ) -> None:
        def done_event() -> dict[str, Any]:
            output = self._output_of(response, status)
            audio_tokens = response.audio_bytes // 2400
            text_tokens = len(response.text.split()) if status == "completed" else 0
            usage = {
                "total_tokens": 120 + text_tokens + audio_tokens,
                "input_tokens": 120,
                "output_tokens": text_tokens + audio_tokens,
                "input_token_details": {"text_tokens": 120, "audio_tokens": 0, "cached_tokens": 0},
                "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
            }
            body = {
                **response.echo,
                "status": status,
                "status_details": details,
                "output": output,
                "usage": usage,
            }
            return self._event("response.done", response=body)

        def emit() -> None:
            if self.active is response:
                self.active = None

        self._schedule(t, _LazySend(done_event), tag or response.id, emit)

    def _cancel(self, now: float, reason: str) -> None:
        response = self.active
        if response is None:
            return
        self._dropped.add(response.id)
        tag = response.id + "#cancel"
        details = {"type": "cancelled", "reason": reason}
        if response.item_id is not None and response.function_call is None:
            ids = {
                "response_id": response.id,
                "item_id": response.item_id,
                "output_index": 0,
                "content_index": 0,
            }
            names = _names(self.dialect)

            text = "".join(response.emitted)
            if "audio" in response.modalities:
                self._send(now, names["audio_done"], tag, **ids)
                self._send(now, names["transcript_done"], tag, **ids, transcript=text)
                part = {"type": "audio", "transcript": text}
            else:
                self._send(now, names["text_done"], tag, **ids, text=text)
                part = {"type": "text", "text": text}
            self._send(now, "response.content_part.done", tag, **ids, part=part)
            (item,) = self._output_of(response, "cancelled")
            self._send(
                now,
                "response.output_item.done",
                tag,
                response_id=response.id,
                output_index=0,
                item=item,
            )
            if self.dialect == "ga":
                self._send(now, "conversation.item.done", tag, item=item)
        self._finish(now, response, "cancelled", details, tag)


class _LazySend(Send):
    """A :class:`Send` whose event is built when it is due (``response.done`` reports what was
    actually emitted before it)."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_built", None)

    @property
    def event(self) -> dict[str, Any]:
        built: dict[str, Any] | None = object.__getattribute__(self, "_built")
        if built is None:
            built = object.__getattribute__(self, "_build")()
            object.__setattr__(self, "_built", built)
        return built


def _names(dialect: Dialect) -> dict[str, str]:
    if dialect == "beta":
        return {
            "text_delta": "response.text.delta",
            "text_done": "response.text.done",
            "audio_delta": "response.audio.delta",
            "audio_done": "response.audio.done",
            "transcript_delta": "response.audio_transcript.delta",
            "transcript_done": "response.audio_transcript.done",
        }
    return {
        "text_delta": "response.output_text.delta",
        "text_done": "response.output_text.done",
        "audio_delta": "response.output_audio.delta",
        "audio_done": "response.output_audio.done",
        "transcript_delta": "response.output_audio_transcript.delta",
        "transcript_done": "response.output_audio_transcript.done",
    }


def _item_part(part: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """Content part as stored in the item: GA renames ``text``/``audio`` to ``output_*``."""
    if dialect == "beta":
        return dict(part)
    return {**part, "type": "output_" + str(part["type"])}


def _allowed_content(dialect: Dialect, role: str) -> tuple[str, ...]:
    if dialect == "ga":
        return {
            "user": ("input_text", "input_audio", "input_image"),
            "system": ("input_text",),
            "assistant": ("output_text", "output_audio"),
        }[role]
    if role == "assistant":
        return ("text", "audio", "output_text")
    return ("input_text", "input_audio", "text", "input_image")


def _canned_arguments(schema: Any) -> dict[str, Any]:
    """Arguments for a canned call: each required property gets a placeholder of its type."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name in schema.get("required") or list(props)[:1]:
        kind = (props.get(name) or {}).get("type")
        enum = (props.get(name) or {}).get("enum")
        if enum:
            out[name] = enum[0]
        elif kind in ("number", "integer"):
            out[name] = 1
        elif kind == "boolean":
            out[name] = True
        else:
            out[name] = "example"
    return out
