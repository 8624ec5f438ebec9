"""HAR files with WebSocket messages, as capture records.

Shapes read (see tests/fixtures/har/README.md for where each came from):

- Chrome DevTools (76+): entries with ``_resourceType: "websocket"`` and ``_webSocketMessages``
  ``[{type: "send"|"receive"|"error", time: <epoch s>, opcode: 1|2|-1, data}]``; binary data is
  base64; an ``error`` frame (opcode -1) carries the browser's error text.
- mitmproxy ``savehar`` (10.1+): the same four keys; ``request.url`` is ``http(s)://``.
- HTTP Toolkit: the same, plus ``_webSocketClose: {code, reason, timestamp}`` or ``"aborted"``.
- Playwright (``recordHar`` with ``content: "embed"``): the Chrome shape. With
  ``content: "attach"`` the messages live in a separate file and are reported as missing.

Some writers also put control frames in the list (opcode 8 close with a ``code``, 9/10 ping
and pong): a close becomes the close record, pings are skipped (capture v1 has no place for them).

Every WebSocket entry becomes one connection: an ``open`` record from the request and response
(headers redacted by :func:`~rtscope.capture.codec.open_record`), ``msg`` records built by
:func:`~rtscope.capture.codec.message_record` (so redaction applies) and a ``close`` record when
the HAR says how the connection ended. Pure: a parsed HAR document in, records out.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson

from ..codec import Record, close_record, message_record, open_record

__all__ = ["har_records", "is_har", "ws_url"]

Problem = Callable[[str, str | None], None]


def is_har(doc: object) -> bool:
    """A parsed JSON document shaped like a HAR (``log.entries`` is a list)."""
    if not isinstance(doc, dict):
        return False
    log = doc.get("log")
    return isinstance(log, dict) and isinstance(log.get("entries"), list)


def is_websocket_entry(entry: object) -> bool:
    return isinstance(entry, dict) and (
        entry.get("_resourceType") == "websocket" or "_webSocketMessages" in entry
    )


def ws_url(url: str) -> str:
    """``http(s)://`` (mitmproxy's HAR) → ``ws(s)://``; a ws URL is kept."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


def har_records(doc: dict[str, Any], problem: Problem) -> Iterator[Record]:
    """Records of every WebSocket entry of ``doc``; ``problem(text, hint)`` gets what was skipped.

    Raises ``ValueError`` when the HAR holds no WebSocket entry at all.
    """
    entries = doc["log"]["entries"]
    ws_entries = [(i, e) for i, e in enumerate(entries, 1) if is_websocket_entry(e)]
    if not ws_entries:
        raise ValueError(f"no WebSocket entries (the HAR has {len(entries)} HTTP entries)")
    for conn_no, (index, entry) in enumerate(ws_entries, 1):
        yield from _entry_records(str(conn_no), index, entry, problem)


def _headers(part: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    headers = part.get("headers") if isinstance(part, dict) else None
    if isinstance(headers, list):
        for header in headers:
            if isinstance(header, dict) and "name" in header:
                out.append((str(header["name"]), str(header.get("value", ""))))
            elif isinstance(header, list | tuple) and len(header) == 2:
                out.append((str(header[0]), str(header[1])))
    elif isinstance(headers, dict):
        out.extend((str(k), str(v)) for k, v in headers.items())
    return out


def _started(entry: dict[str, Any]) -> float | None:
    value = entry.get("startedDateTime")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _seconds(value: Any) -> float | None:
    """Message times are epoch seconds; a few writers use milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value / 1000.0 if value > 1e11 else float(value)


def _entry_records(
    conn: str, index: int, entry: dict[str, Any], problem: Problem
) -> Iterator[Record]:
    where = f"entry {index}"
    request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    assert isinstance(request, dict) and isinstance(response, dict)
    messages = entry.get("_webSocketMessages")
    started = _started(entry)
    first_t = None
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict) and _seconds(message.get("time")) is not None:
                first_t = _seconds(message.get("time"))
                break
    open_t = started if started is not None else (first_t or 0.0)
    status = response.get("status")
    yield open_record(
        conn,
        open_t,
        ws_url(str(request.get("url", ""))),
        _headers(request),
        _headers(response),
        status if isinstance(status, int) and status > 0 else None,
        har_entry=index,
    )
    if not isinstance(messages, list):
        problem(
            f"{where}: WebSocket entry without '_webSocketMessages'; only its handshake was read",
            "Playwright's recordHar keeps messages in a separate file unless content is 'embed'",
        )
        messages = []
    seq = 0
    last_t = open_t
    closed: Record | None = None
    for number, message in enumerate(messages, 1):
        here = f"{where}, message {number}"
        if not isinstance(message, dict):
            problem(f"{here}: not an object; skipped", None)
            continue
        kind = message.get("type")
        opcode = message.get("opcode", 1)
        data = message.get("data", "")
        t = _seconds(message.get("time"))
        t = last_t if t is None else t
        last_t = t
        if kind == "error" or opcode == -1:
            closed = close_record(conn, t, 1006, str(data), None, error=True)
            continue
        if kind not in ("send", "receive"):
            problem(f"{here}: type {kind!r} is neither 'send' nor 'receive'; skipped", None)
            continue
        if opcode == 8:
            code = message.get("code")
            closed = close_record(
                conn,
                t,
                code if isinstance(code, int) else None,
                str(message.get("reason", "")),
                "client" if kind == "send" else "server",
            )
            continue
        if opcode in (9, 10):
            continue  # ping/pong: not part of capture v1
        if not isinstance(data, str):
            data = orjson.dumps(data).decode() if data is not None else ""
        if opcode == 2:
            try:
                payload = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                problem(f"{here}: binary message whose data is not base64; skipped", None)
                continue
            is_text = False
        elif opcode in (1, 0, None):
            payload = data.encode("utf-8", "surrogatepass")
            is_text = True
        else:
            problem(f"{here}: unknown opcode {opcode!r}; skipped", None)
            continue
        record = message_record(conn, seq, t, kind == "send", payload, is_text)
        if isinstance(record.get("event"), orjson.Fragment):
            record["event"] = orjson.loads(payload)
        yield record
        seq += 1
    toolkit_close = entry.get("_webSocketClose")
    if isinstance(toolkit_close, dict):
        ts = _seconds(toolkit_close.get("timestamp"))
        code = toolkit_close.get("code")
        closed = close_record(
            conn,
            ts if ts is not None else last_t,
            code if isinstance(code, int) else None,
            str(toolkit_close.get("reason") or ""),
            None,
        )
    elif toolkit_close == "aborted":
        closed = close_record(conn, last_t, 1006, "", None)
    if closed is not None:
        yield closed
