"""The recorder's hand-off to its writer process: items on a pipe, sans I/O.

With ``rtscope record --writer process`` (option ``rtscope_writer=process``) the proxy does not
encode, write or analyze messages itself: each WebSocket message goes, as it came, into a pipe
that a writer process (:mod:`.writer_process`) reads, and the writer turns it into capture lines
exactly as the proxy would have (it runs the same :class:`~rtscope.proxy.addon.Recorder`
code). What the proxy pays per message is one ``writev(2)`` of a small header and the payload.
The message is in the pipe, i.e. in the kernel, before it is forwarded: a ``kill -9`` of the
proxy loses nothing forwarded, the writer still reads it.

This module is only the wire format of that pipe, both ways, with no I/O:

- proxy → writer, binary items: a header (:data:`HEADER`: kind, connection key, payload length,
  timestamp, flags) and the payload. ``MSG`` items carry a message's bytes; ``CTL`` items an
  orjson object ``{"op": …}`` (``config``, ``start``, ``end``, ``refused``, ``sync``, ``stop``).
- writer → proxy: one orjson object per line (``out``/``err`` text to print, ``summary``, the
  ``sync`` token echoed once everything before it is written, ``stopped``).

:class:`ItemReader` and :class:`LineReader` take chunks as they come from ``read(2)`` and return
whole items or lines: split anywhere, they give the same result.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import orjson

__all__ = [
    "CTL",
    "HEADER",
    "MSG",
    "Item",
    "ItemReader",
    "LineReader",
    "control",
    "message_header",
]

#: kind (u8), connection key (u32), payload length (u32), timestamp (f64), flags (u8)
HEADER = struct.Struct("<BIIdB")
MSG = 1
CTL = 2
FROM_CLIENT = 1
IS_TEXT = 2

_pack = HEADER.pack


class Item(NamedTuple):
    kind: int
    key: int
    t: float
    from_client: bool
    is_text: bool
    payload: bytes


def message_header(key: int, t: float, from_client: bool, is_text: bool, size: int) -> bytes:
    """The header of a ``MSG`` item; the message's ``size`` bytes follow it."""
    flags = (FROM_CLIENT if from_client else 0) | (IS_TEXT if is_text else 0)
    return _pack(MSG, key, size, t, flags)


def control(op: str, key: int = 0, **fields: Any) -> bytes:
    """A whole ``CTL`` item: ``{"op": op, **fields}`` for connection ``key``."""
    body = orjson.dumps({"op": op, **fields})
    return _pack(CTL, key, len(body), 0.0, 0) + body


class ItemReader:
    """Items from the proxy's byte stream, fed in chunks of any size."""

    def __init__(self) -> None:
        self._pending = b""

    @property
    def pending(self) -> int:
        """Bytes of an item not complete yet (non-zero at the end: the stream was cut)."""
        return len(self._pending)

    def feed(self, chunk: bytes) -> list[Item]:
        data = self._pending + chunk if self._pending else chunk
        items: list[Item] = []
        at, end, size = 0, len(data), HEADER.size
        unpack = HEADER.unpack_from
        while end - at >= size:
            kind, key, n, t, flags = unpack(data, at)
            if kind not in (MSG, CTL):
                raise ValueError(f"hand-off stream: unknown item kind {kind} at byte {at}")
            stop = at + size + n
            if stop > end:
                break
            payload = data[at + size : stop]
            items.append(
                Item(kind, key, t, bool(flags & FROM_CLIENT), bool(flags & IS_TEXT), payload)
            )
            at = stop
        self._pending = data[at:]
        return items


class LineReader:
    """orjson objects, one per line, fed in chunks of any size (the writer's answers)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        out: list[dict[str, Any]] = []
        for line in lines:
            value = orjson.loads(line)
            if isinstance(value, dict):
                out.append(value)
        return out
