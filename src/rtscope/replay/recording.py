"""One recorded connection of a capture, loaded for replay, serve and diff.

A capture may hold several connections; :func:`load_recording` picks one (``--conn``, else the
first connection that has messages) and keeps its ``open``, ``msg`` and ``close`` records.
Errors are :class:`~rtscope.errors.InputError` lines naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Any

from ..capture.sources import open_source
from ..errors import InputError

__all__ = ["Recording", "load_recording"]

Record = dict[str, Any]


@dataclass
class Recording:
    """The records of one connection, in file order."""

    source: str
    conn: str
    messages: list[Record] = field(default_factory=list)
    open: Record | None = None
    close: Record | None = None
    header: Record | None = None
    #: Values derived from ``messages`` once and shared by every playback of this recording.
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def start(self) -> float:
        """The time offsets count from: the handshake, else the first message."""
        if self.open is not None and isinstance(self.open.get("t"), int | float):
            return float(self.open["t"])
        for msg in self.messages:
            if isinstance(msg.get("t"), int | float):
                return float(msg["t"])
        return 0.0

    def offset(self, record: Record) -> float | None:
        t = record.get("t")
        return float(t) - self.start if isinstance(t, int | float) else None

    @property
    def client(self) -> list[Record]:
        return [m for m in self.messages if m.get("from") == "client"]

    @property
    def server(self) -> list[Record]:
        return [m for m in self.messages if m.get("from") == "server"]

    def request_header(self, name: str) -> str | None:
        """A header of the recorded handshake (case-insensitive), as recorded (redacted)."""
        headers = (self.open or {}).get("request_headers") or []
        pairs = headers.items() if isinstance(headers, dict) else headers
        for pair in pairs:
            if isinstance(pair, list | tuple) and len(pair) == 2 and str(pair[0]).lower() == name:
                return str(pair[1])
        return None

    @property
    def beta(self) -> bool:
        """Whether the recorded session spoke the beta shape (handshake, else server events)."""
        header = self.request_header("openai-beta")
        if header is not None:
            return "realtime=v1" in header.replace(" ", "")
        for msg in self.server:
            etype = (msg.get("event") or {}).get("type", "")
            if etype in (
                "conversation.item.created",
                "response.text.delta",
                "response.audio.delta",
            ):
                return True
            if etype.startswith("response.output_") or etype == "conversation.item.added":
                return False
        return False


def load_recording(
    source: str | os.PathLike[str] | IO[bytes], conn: str | None = None, name: str | None = None
) -> Recording:
    """Read ``source`` and keep connection ``conn`` (default: the first one with messages)."""
    reader = open_source(source, name)
    by_conn: dict[str, Recording] = {}
    order: list[str] = []
    for record in reader:
        cid = record.get("conn")
        if not isinstance(cid, str):
            continue
        rec = by_conn.get(cid)
        if rec is None:
            rec = by_conn[cid] = Recording(reader.name, cid, header=reader.header)
            order.append(cid)
        kind = record.get("kind")
        if kind == "msg":
            rec.messages.append(record)
        elif kind == "open":
            rec.open = record
        elif kind == "close":
            rec.close = record
    if conn is not None:
        if conn not in by_conn:
            known = ", ".join(order) or "none"
            raise InputError(reader.name, f"no connection {conn!r}", hint=f"connections: {known}")
        return by_conn[conn]
    for cid in order:
        if by_conn[cid].messages:
            return by_conn[cid]
    raise InputError(reader.name, "no WebSocket messages in this capture",
                     hint="record a session first (rtscope record)")  # fmt: skip
