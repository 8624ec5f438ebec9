"""One short line saying what matters in a Realtime event (both dialects).

``summarize(event)`` gives e.g. ``status=failed reason=server_error "The server had an error…"``
for a ``response.done``; the terminal timeline and the HTML report print it beside the type.
Long values are trimmed in the middle (start and end kept), so base64 and transcripts stay short.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from .config import modalities

__all__ = ["audio_bytes", "decode_audio", "format_ms", "summarize", "trim_middle"]

ELLIPSIS = "…"


def trim_middle(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and end around ``…``."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    head = (limit - 1 + 1) // 2
    tail = limit - 1 - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def audio_bytes(value: Any) -> int | None:
    """Decoded size of a base64 audio field, or of a dropped-audio digest ``{"bytes": N}``."""
    if isinstance(value, str):
        n = len(value)
        if n == 0:
            return 0
        padding = value.endswith("==") + value.endswith("=")
        return max(0, n * 3 // 4 - padding)
    if isinstance(value, dict) and isinstance(value.get("bytes"), int):
        return int(value["bytes"])
    return None


def decode_audio(value: Any) -> bytes | None:
    """The raw bytes of a base64 audio field (``None`` when dropped or not base64)."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return None


def _q(text: Any, limit: int = 60) -> str:
    """A quoted, single-line, middle-trimmed rendering of a text value."""
    s = str(text).replace("\r", " ").replace("\n", " ")
    return '"' + trim_middle(s, limit) + '"'


def _list(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ",".join(str(v) for v in values) + "]"
    return str(values)


def _content_types(item: dict[str, Any]) -> str:
    content = item.get("content")
    if not isinstance(content, list):
        return ""
    return "[" + ",".join(str(p.get("type")) for p in content if isinstance(p, dict)) + "]"


def _first_text(item: dict[str, Any]) -> str | None:
    content = item.get("content")
    if not isinstance(content, list):
        return None
    for part in content:
        if isinstance(part, dict):
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str) and part[key]:
                    return str(part[key])
    return None


def _item(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    kind = item.get("type", "?")
    bits = [str(kind)]
    if kind == "message":
        bits.append(str(item.get("role", "?")))
        bits.append(_content_types(item))
        text = _first_text(item)
        if text:
            bits.append(_q(text, 50))
    elif kind == "function_call":
        bits.append(f"{item.get('name', '?')}({trim_middle(str(item.get('arguments', '')), 40)})")
        bits.append(f"call_id={item.get('call_id')}")
    elif kind == "function_call_output":
        bits.append(f"call_id={item.get('call_id')}")
        if "output" in item:
            bits.append(_q(item.get("output"), 40))
    status = item.get("status")
    if status and status != "completed":
        bits.append(f"status={status}")
    if item.get("id"):
        bits.append(f"id={item['id']}")
    return " ".join(b for b in bits if b)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _session(event: dict[str, Any]) -> str:
    session = event.get("session")
    if not isinstance(session, dict):
        return ""
    bits = []
    if session.get("type"):
        bits.append(f"type={session['type']}")
    if session.get("model"):
        bits.append(str(session["model"]))
    mods = modalities(session)
    if mods is not None:
        bits.append(f"modalities={_list(mods)}")
    audio = _dict(session.get("audio"))
    out = _dict(audio.get("output"))
    inp = _dict(audio.get("input"))
    voice = session.get("voice") or out.get("voice")
    if voice:
        bits.append(f"voice={voice}")
    fmt = session.get("input_audio_format") or inp.get("format")
    if isinstance(fmt, dict):
        fmt = fmt.get("type")
    if fmt:
        bits.append(f"in={fmt}")
    if "turn_detection" in session or "turn_detection" in inp:
        td = session.get("turn_detection", inp.get("turn_detection"))
        bits.append(f"vad={td.get('type') if isinstance(td, dict) else 'off'}")
    if session.get("tools"):
        bits.append(f"tools={len(session['tools'])}")
    if isinstance(session.get("instructions"), str) and session["instructions"]:
        bits.append("instructions=" + _q(session["instructions"], 30))
    return " ".join(bits)


def _response_obj(event: dict[str, Any]) -> str:
    response = event.get("response")
    if not isinstance(response, dict):
        return ""
    bits = []
    status = response.get("status")
    if status:
        bits.append(f"status={status}")
    details = response.get("status_details")
    if isinstance(details, dict):
        if details.get("reason"):
            bits.append(f"reason={details['reason']}")
        error = details.get("error")
        if isinstance(error, dict):
            bits.append(f"error={error.get('code') or error.get('type')}")
            if error.get("message"):
                bits.append(_q(error["message"], 60))
    mods = modalities(response)
    if mods is not None:
        bits.append(f"modalities={_list(mods)}")
    output = response.get("output")
    if isinstance(output, list) and event.get("type") == "response.done":
        kinds = []
        for item in output:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "message":
                kinds.append(_content_types(item) or "message")
            elif item.get("type") == "function_call":
                kinds.append(f"{item.get('name')}()")
            else:
                kinds.append(str(item.get("type")))
        bits.append("output=" + ("+".join(kinds) if kinds else "none"))
    usage = response.get("usage")
    if isinstance(usage, dict):
        details_out = usage.get("output_token_details")
        if isinstance(details_out, dict):
            bits.append(
                f"tokens text={details_out.get('text_tokens')} "
                f"audio={details_out.get('audio_tokens')}"
            )
    if response.get("conversation") == "none":
        bits.append("out-of-band")
    if response.get("id"):
        bits.append(f"id={response['id']}")
    return " ".join(bits)


def _error(event: dict[str, Any]) -> str:
    error = event.get("error")
    if not isinstance(error, dict):
        return ""
    bits = [str(error.get("code") or error.get("type") or "error")]
    if error.get("message"):
        bits.append(_q(error["message"], 90))
    if error.get("param"):
        bits.append(f"param={error['param']}")
    if error.get("event_id"):
        bits.append(f"for={error['event_id']}")
    return " ".join(bits)


def _text_done(event: dict[str, Any]) -> str:
    for key in ("text", "transcript"):
        if isinstance(event.get(key), str):
            return _q(event[key], 70)
    return ""


def _fields(*names: str) -> Callable[[dict[str, Any]], str]:
    def render(event: dict[str, Any]) -> str:
        return " ".join(f"{n}={event[n]}" for n in names if event.get(n) is not None)

    return render


def _session_update(event: dict[str, Any]) -> str:
    session = event.get("session")
    if not isinstance(session, dict):
        return ""
    keys = ",".join(sorted(session))
    base = _session(event)
    return f"{base} keys={{{keys}}}" if base else f"keys={{{keys}}}"


def _response_create(event: dict[str, Any]) -> str:
    response = event.get("response")
    if not isinstance(response, dict):
        return ""
    bits = []
    mods = modalities(response)
    if mods is not None:
        bits.append(f"modalities={_list(mods)}")
    if response.get("conversation") == "none":
        bits.append("out-of-band")
    if isinstance(response.get("instructions"), str):
        bits.append("instructions=" + _q(response["instructions"], 30))
    if response.get("tool_choice"):
        bits.append(f"tool_choice={response['tool_choice']}")
    return " ".join(bits)


def _fn_args_done(event: dict[str, Any]) -> str:
    name = event.get("name", "?")
    args = trim_middle(str(event.get("arguments", "")), 50)
    return f"{name}({args}) call_id={event.get('call_id')}"


def _rate_limits(event: dict[str, Any]) -> str:
    limits = event.get("rate_limits")
    if not isinstance(limits, list):
        return ""
    parts = [x for x in limits if isinstance(x, dict)]
    return " ".join(f"{x.get('name')}={x.get('remaining')}/{x.get('limit')}" for x in parts)


def _part(event: dict[str, Any]) -> str:
    part = event.get("part")
    return f"part={part.get('type')}" if isinstance(part, dict) else ""


def _transcription(event: dict[str, Any]) -> str:
    if isinstance(event.get("error"), dict):
        return _error(event)
    return _text_done(event)


def _item_event(event: dict[str, Any]) -> str:
    return _item(event.get("item"))


_SUMMARIZERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "session.created": _session,
    "session.updated": _session,
    "transcription_session.updated": _session,
    "session.update": _session_update,
    "transcription_session.update": _session_update,
    "conversation.item.create": _item_event,
    "conversation.item.created": _item_event,
    "conversation.item.added": _item_event,
    "conversation.item.done": _item_event,
    "conversation.item.retrieved": _item_event,
    "response.output_item.added": _item_event,
    "response.output_item.done": _item_event,
    "response.create": _response_create,
    "response.created": _response_obj,
    "response.done": _response_obj,
    "response.cancel": _fields("response_id"),
    "error": _error,
    "input_audio_buffer.speech_started": _fields("audio_start_ms", "item_id"),
    "input_audio_buffer.speech_stopped": _fields("audio_end_ms", "item_id"),
    "input_audio_buffer.committed": _fields("item_id"),
    "conversation.item.truncate": _fields("item_id", "content_index", "audio_end_ms"),
    "conversation.item.truncated": _fields("item_id", "content_index", "audio_end_ms"),
    "conversation.item.delete": _fields("item_id"),
    "conversation.item.deleted": _fields("item_id"),
    "conversation.item.retrieve": _fields("item_id"),
    "response.content_part.added": _part,
    "response.content_part.done": _part,
    "response.text.done": _text_done,
    "response.output_text.done": _text_done,
    "response.audio_transcript.done": _text_done,
    "response.output_audio_transcript.done": _text_done,
    "response.function_call_arguments.done": _fn_args_done,
    "rate_limits.updated": _rate_limits,
    "conversation.item.input_audio_transcription.completed": _transcription,
    "conversation.item.input_audio_transcription.failed": _transcription,
}


def summarize(event: dict[str, Any], audio_ms: float | None = None) -> str:
    """A short summary of ``event``; ``audio_ms`` (when known) is appended for audio events."""
    etype = event.get("type")
    render = _SUMMARIZERS.get(etype) if isinstance(etype, str) else None
    text = render(event) if render else ""
    if audio_ms is not None:
        text = f"{text} {format_ms(audio_ms)} audio".strip()
    return text


def format_ms(ms: float) -> str:
    """``"850 ms"`` below a second, ``"2.3 s"`` above."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"
