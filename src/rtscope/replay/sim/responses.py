"""Responses of the simulator: text, audio (a tone) or a canned function call, paced deltas,
cancel and barge-in, and the scenario faults that touch responses."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson

from .audio import BYTES_PER_MS, tone
from .base import ACK_S, Close, Send, SessionBase, _LazySend, _Response
from .items import _item_part
from .session import (
    Dialect,
    audio_format,
    modalities_of,
    voice_of,
)

_CANNED = (
    "Sure, I can help with that. This answer comes from the rtscope simulator.",
    "Here is a second simulated answer, paced like a real one.",
    "Of course. Let me know if there is anything else you would like to try.",
)


class ResponsesMixin(SessionBase):
    """Response creation, pacing, cancel and finish."""

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
        self._start_response(now + ACK_S, params)

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
        self._cancel(now + ACK_S, "client_cancelled")

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
        self._item_done(t, rid, prev, done_item, beta)
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
        self._item_done(t, rid, prev, done_item, beta)
        return t

    def _item_done(
        self, t: float, rid: str, prev: Any, done_item: dict[str, Any], beta: bool
    ) -> None:
        """``response.output_item.done`` (noting the item), then GA's ``conversation.item.done``."""
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
