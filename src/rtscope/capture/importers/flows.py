"""mitmproxy flow files (``mitmdump -w``, ``.mitm``), as capture records.

Read with mitmproxy's own reader (``mitmproxy.io.FlowReader(f).stream()``), imported only here
so that reading a plain capture never imports mitmproxy. Each HTTP flow with a WebSocket becomes
one connection: ``open`` from the handshake, ``msg`` per WebSocket message (mitmproxy's own
timestamps; ``dropped``/``injected`` flags kept when set), ``close`` with mitmproxy's close code,
reason and side. Flows without a WebSocket are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ..codec import Record, close_record, message_record, open_record
from .har import ws_url

__all__ = ["flow_records"]


def flow_records(flows: Iterable[Any]) -> Iterator[Record]:
    """Records of every WebSocket flow in ``flows`` (mitmproxy ``HTTPFlow`` objects)."""
    for flow in flows:
        websocket = getattr(flow, "websocket", None)
        if websocket is None:
            continue
        yield from _one_flow(flow, websocket)


def _one_flow(flow: Any, websocket: Any) -> Iterator[Record]:
    conn = str(flow.id)
    request = flow.request
    response = flow.response
    open_t = float(request.timestamp_start or 0.0)
    yield open_record(
        conn,
        open_t,
        ws_url(request.pretty_url),
        list(request.headers.items(multi=True)),
        list(response.headers.items(multi=True)) if response is not None else [],
        response.status_code if response is not None else None,
    )
    last_t = open_t
    for seq, message in enumerate(websocket.messages):
        t = float(message.timestamp or last_t)
        last_t = t
        record = message_record(
            conn, seq, t, bool(message.from_client), message.content, message.is_text
        )
        if isinstance(record.get("event"), orjson.Fragment):
            record["event"] = orjson.loads(message.content)
        if getattr(message, "dropped", False):
            record["dropped"] = True
        if getattr(message, "injected", False):
            record["injected"] = True
        yield record
    code = websocket.close_code
    end_t = websocket.timestamp_end
    if code is not None or end_t is not None:
        by = websocket.closed_by_client
        yield close_record(
            conn,
            float(end_t if end_t is not None else last_t),
            int(code) if code is not None else 1006,
            str(websocket.close_reason or ""),
            None if by is None else ("client" if by else "server"),
        )
