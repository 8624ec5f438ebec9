"""A capture as a HAR 1.2 file that Chrome DevTools, HTTP Toolkit and other HAR viewers open.

Each connection becomes one entry shaped like Chrome's and mitmproxy's (``savehar.py``)
WebSocket entries: ``_resourceType: "websocket"`` and ``_webSocketMessages`` of
``{"type": "send"|"receive", "time": <epoch seconds>, "opcode": 1|2, "data": …}`` (binary data
base64). How the connection closed goes in HTTP Toolkit's ``_webSocketClose`` extension, which
other readers ignore. The request/response are the capture's (already redacted) handshake.

Connections without a handshake (pasted logs, bare events) get a placeholder URL
(``ws://rtscope.invalid/…``) and a ``comment`` saying so; messages without a time get the
previous message's time, or ``base_time`` (the order is kept). :func:`capture_to_har` is pure;
:func:`write_har` writes the file (0600).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from .._version import __version__
from ..capture.codec import Record, payload_of

__all__ = ["HarSummary", "capture_to_har", "header_time", "write_har"]


@dataclass
class _Conn:
    conn: str
    open: Record | None = None
    close: Record | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    first_t: float | None = None
    last_t: float | None = None
    untimed: int = 0


@dataclass
class HarSummary:
    entries: int
    messages: int
    untimed: int


def header_time(header: Record | None) -> float | None:
    """The ``created`` time of a capture header, in epoch seconds."""
    created = header.get("created") if isinstance(header, dict) else None
    if not isinstance(created, str):
        return None
    try:
        return datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError):
        return None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _header_list(headers: Any) -> list[dict[str, str]]:
    if isinstance(headers, dict):
        return [{"name": str(k), "value": str(v)} for k, v in headers.items()]
    return []


def _message(record: Record, t: float) -> dict[str, Any]:
    payload, is_text = payload_of(record)
    if is_text:
        try:
            return {
                "type": "send" if record.get("from") == "client" else "receive",
                "time": t,
                "opcode": 1,
                "data": payload.decode("utf-8"),
            }
        except UnicodeDecodeError:
            pass  # invalid UTF-8 text frame: only base64 can carry it
    return {
        "type": "send" if record.get("from") == "client" else "receive",
        "time": t,
        "opcode": 2,
        "data": base64.b64encode(payload).decode("ascii"),
    }


def capture_to_har(
    records: Iterable[Record], base_time: float | None = None
) -> tuple[dict[str, Any], HarSummary]:
    """The HAR document for ``records`` and a summary (entries, messages, untimed messages)."""
    conns: dict[str, _Conn] = {}
    created = base_time
    for record in records:
        kind = record.get("kind")
        if kind == "header":
            continue
        conn_id = record.get("conn")
        if not isinstance(conn_id, str):
            continue
        state = conns.setdefault(conn_id, _Conn(conn_id))
        t = record.get("t")
        if isinstance(t, int | float) and not isinstance(t, bool):
            state.first_t = t if state.first_t is None else state.first_t
            state.last_t = t
        if kind == "open":
            state.open = record
        elif kind == "close":
            state.close = record
        elif kind == "msg":
            if not isinstance(t, int | float) or isinstance(t, bool):
                state.untimed += 1
                t = state.last_t if state.last_t is not None else (created or 0.0)
            state.messages.append(_message(record, float(t)))
    entries = [_entry(state, created) for state in conns.values()]
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "rtscope", "version": __version__},
            "pages": [],
            "entries": entries,
        }
    }
    summary = HarSummary(
        len(entries),
        sum(len(c.messages) for c in conns.values()),
        sum(c.untimed for c in conns.values()),
    )
    return doc, summary


def _entry(state: _Conn, created: float | None) -> dict[str, Any]:
    opened = state.open or {}
    start = opened.get("t") if isinstance(opened.get("t"), int | float) else state.first_t
    start = float(start) if start is not None else (created or 0.0)
    end = state.last_t if state.last_t is not None else start
    url = str(opened.get("url") or f"ws://rtscope.invalid/{state.conn}")
    status = opened.get("status") if isinstance(opened.get("status"), int) else 101
    query = [
        {"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
    ]
    entry: dict[str, Any] = {
        "startedDateTime": _iso(start),
        "time": max(0.0, (end - start) * 1000.0),
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _header_list(opened.get("request_headers")),
            "queryString": query,
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": status,
            "statusText": "Switching Protocols" if status == 101 else "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _header_list(opened.get("response_headers")),
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "ssl": -1,
            "send": 0,
            "wait": 0,
            "receive": 0,
        },
        "_resourceType": "websocket",
        "_webSocketMessages": state.messages,
    }
    comments = []
    if state.open is None:
        comments.append(
            "rtscope: the capture has no handshake for this connection; URL is a placeholder"
        )
    if state.untimed:
        comments.append(
            f"rtscope: {state.untimed} message(s) had no time; they carry the previous time"
        )
    if comments:
        entry["comment"] = "; ".join(comments)
    close = state.close
    if close is not None:
        code = close.get("code")
        if code == 1006 and not close.get("reason"):
            entry["_webSocketClose"] = "aborted"
        else:
            entry["_webSocketClose"] = {
                "code": code,
                "reason": close.get("reason") or "",
                "timestamp": close.get("t"),
            }
    return entry


def write_har(
    records: Iterable[Record],
    target: str | os.PathLike[str] | IO[bytes],
    base_time: float | None = None,
) -> HarSummary:
    """Write ``records`` as HAR to a path (created 0600) or a binary stream.

    ``base_time`` (epoch seconds, e.g. the capture header's ``created``) stands in for the time
    of messages before the first one that has a time (pasted logs without timestamps).
    """
    doc, summary = capture_to_har(records, base_time)
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if isinstance(target, str | os.PathLike):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    else:
        target.write(data)
    return summary
