"""Records of capture format v1 and their encoding to JSONL lines (orjson).

A record is a plain ``dict`` (what ``orjson.loads`` gives back); the builders here fix the field
order and apply redaction, so every writer (the proxy, replay, importers) writes the same lines.
See docs/capture-format.md.

The message encoder is on the proxy's hot path: a JSON object payload that needs no redaction is
embedded verbatim (``orjson.Fragment``), so the capture holds the exact bytes that were sent and no
re-serialization is paid for.
"""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from .._version import __version__
from ..protocol.events import AUDIO_FIELDS
from .audiospan import b64_decoded_len, parse_counting_audio
from .redact import (
    event_might_hold_secret,
    might_hold_secret,
    redact_event,
    redact_headers,
    redact_text,
    redact_url,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "AudioMode",
    "Record",
    "close_record",
    "dumps",
    "header_record",
    "message_record",
    "message_records",
    "open_record",
    "payload_of",
]

FORMAT = "rtscope.capture"
VERSION = 1

Record = dict[str, Any]
AudioMode = Literal["keep", "drop"]

_WS = b" \t\r\n"


def dumps(record: Record) -> bytes:
    """One JSONL line (with its newline) for ``record``."""
    return orjson.dumps(record) + b"\n"


def header_record(created: float | None = None, **extra: Any) -> Record:
    """The first line of every file rtscope writes."""
    when = datetime.fromtimestamp(time.time() if created is None else created, UTC)
    record: Record = {
        "kind": "header",
        "format": FORMAT,
        "version": VERSION,
        "created": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "tool": f"rtscope {__version__}",
    }
    record.update(extra)
    return record


def open_record(
    conn: str,
    t: float,
    url: str,
    request_headers: list[tuple[str, str]] | dict[str, str],
    response_headers: list[tuple[str, str]] | dict[str, str],
    status: int | None,
    **extra: Any,
) -> Record:
    """A connection's handshake, secrets removed."""
    record: Record = {
        "kind": "open",
        "conn": conn,
        "t": round(t, 6),
        "url": redact_url(url),
        "request_headers": redact_headers(request_headers),
        "response_headers": redact_headers(response_headers),
        "status": status,
    }
    record.update(extra)
    return record


def close_record(
    conn: str,
    t: float,
    code: int | None,
    reason: str = "",
    by: Literal["client", "server"] | None = None,
    **extra: Any,
) -> Record:
    """A connection's end; a dropped connection has code 1006."""
    record: Record = {
        "kind": "close",
        "conn": conn,
        "t": round(t, 6),
        "code": code,
        "reason": redact_text(reason or ""),
        "by": by,
    }
    record.update(extra)
    return record


def message_record(
    conn: str,
    seq: int,
    t: float,
    from_client: bool,
    payload: bytes,
    is_text: bool,
    *,
    audio: AudioMode = "keep",
) -> Record:
    """A WebSocket message, classified as ``event``, ``text`` or ``data_b64``, secrets removed.

    ``size`` is the length of the payload as it crossed the wire (before redaction).
    A text frame that is not valid UTF-8 is kept as ``data_b64`` with ``"opcode": 1``.
    """
    return message_records(conn, seq, t, from_client, payload, is_text, audio=audio)[0]


def message_records(
    conn: str,
    seq: int,
    t: float,
    from_client: bool,
    payload: bytes,
    is_text: bool,
    *,
    audio: AudioMode = "keep",
) -> tuple[Record, Record]:
    """:func:`message_record`, and the same record as plain data.

    The first is for writing (its ``event`` may be an ``orjson.Fragment`` of the payload); the
    second is what reading that line back for analysis gives (``CaptureReader(count_audio=True)``:
    the base64 audio of an audio event replaced by ``{"bytes": N}``), built from the event already
    parsed here, so the recorder's live analysis does not parse every message a second time.
    An audio event whose payload can be embedded verbatim is never parsed whole: only the bytes
    around its audio (:mod:`.audiospan`).
    """
    record: Record = {
        "kind": "msg",
        "conn": conn,
        "seq": seq,
        "t": round(t, 6),
        "from": "client" if from_client else "server",
        "size": len(payload),
    }
    if not is_text:
        record["data_b64"] = _redacted_b64(payload)
        return record, record
    if audio == "keep" and len(payload) >= _FAST_AUDIO_MIN:
        counted = _counted_audio_event(payload)
        if counted is not None:
            record["event"] = orjson.Fragment(payload)
            return record, {**record, "event": counted}
    event = _parse_object(payload)
    if event is not None:
        written, plain = _encode_event(event, payload, audio)
        record["event"] = written
        return record, record if written is plain else {**record, "event": plain}
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        record["data_b64"] = _redacted_b64(payload)
        record["opcode"] = 1
        return record, record
    record["text"] = redact_text(text) if might_hold_secret(payload) else text
    return record, record


#: Payloads at least this long are tried as audio events first (:func:`_counted_audio_event`).
_FAST_AUDIO_MIN = 512


def _counted_audio_event(payload: bytes) -> dict[str, Any] | None:
    """The audio event in ``payload`` with its audio counted, if ``payload`` can go out verbatim.

    ``None`` when ``payload`` is not an audio event with plain base64 audio, spans several lines
    (JSONL needs one) or may hold a secret around its audio: the general path handles those.
    """
    parsed = parse_counting_audio(payload)
    if parsed is None:
        return None
    event, span = parsed
    # The audio is proven plain base64 (no line break, no secret): only the bytes around it count.
    around = payload[: span.start] + payload[span.end :]
    if b"\n" in around or b"\r" in around or might_hold_secret(around):
        return None
    event[span.field] = {"bytes": b64_decoded_len(payload, span.start, span.end)}
    return dict(event)


def _redacted_b64(data: bytes) -> str:
    """Bytes kept as base64 (binary frames, invalid UTF-8 text), secret-shaped runs removed."""
    if might_hold_secret(data):
        data = redact_text(data.decode("latin-1")).encode("latin-1")
    return base64.b64encode(data).decode("ascii")


def _parse_object(payload: bytes) -> dict[str, Any] | None:
    head = payload.lstrip(_WS)[:1]
    if head != b"{":
        return None
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _encode_event(
    event: dict[str, Any], payload: bytes, audio: AudioMode
) -> tuple[Any, dict[str, Any]]:
    """(what to write, the event as data): the payload verbatim when nothing changed."""
    changed = False
    if audio == "drop":
        event, changed = _drop_audio(event)
    if event_might_hold_secret(payload, event):
        event, redacted = redact_event(event)
        changed |= redacted
    if changed or b"\n" in payload or b"\r" in payload:
        # Re-serialize: a redacted event, or one pretty-printed across lines (JSONL is one line).
        return event, event
    return orjson.Fragment(payload), event


def _digest(b64: str) -> dict[str, Any]:
    raw = base64.b64decode(b64, validate=False)
    return {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def _drop_audio(event: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Replace base64 audio by ``{"bytes": N, "sha256": …}`` (``--audio drop``)."""
    etype = event.get("type")
    changed = False
    fields = AUDIO_FIELDS.get(etype) if isinstance(etype, str) else None
    if fields:
        for name in fields:
            value = event.get(name)
            if isinstance(value, str):
                event = {**event, name: _digest(value)}
                changed = True
    item = event.get("item")
    if isinstance(item, dict) and isinstance(item.get("content"), list):
        content = []
        for part in item["content"]:
            if isinstance(part, dict) and isinstance(part.get("audio"), str):
                part = {**part, "audio": _digest(part["audio"])}
                changed = True
            content.append(part)
        if changed:
            event = {**event, "item": {**item, "content": content}}
    return event, changed


def payload_of(record: Record) -> tuple[bytes, bool]:
    """The payload to send for a message record, and whether it is text.

    Events are re-serialized compactly (key order kept); ``text`` and ``data_b64`` are exact.
    """
    if "event" in record:
        return orjson.dumps(record["event"]), True
    if "text" in record:
        return str(record["text"]).encode("utf-8"), True
    data = base64.b64decode(record.get("data_b64", ""))
    return data, record.get("opcode") == 1
