"""One entry point for every input rtscope reads: :func:`open_source`.

The kind of input is sniffed from its first bytes, whatever the file is called:

- capture JSONL (plain or gzip, with or without header, bare-event JSONL) →
  :class:`~rtscope.capture.reader.CaptureReader` (streams, never the whole file in memory);
- a HAR document (``{"log": …}``) → :class:`~rtscope.capture.importers.HarSource`;
- a mitmproxy flow file (tnetstring) → :class:`~rtscope.capture.importers.FlowSource`
  (mitmproxy is imported only then);
- any other text → :class:`~rtscope.capture.importers.PastedSource` (pasted logs).

Standard input works too: its head is read for the sniff and put back in front of the stream.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, Protocol

import orjson

from ..errors import CaptureError
from .codec import Record
from .reader import CaptureReader

if TYPE_CHECKING:  # imported when needed: a capture file (the common case) does not need them
    from .importers.readers import FlowSource, HarSource, PastedSource

__all__ = ["Source", "open_source", "sniff"]

Kind = Literal["capture", "har", "flows", "pasted"]

HEAD = 64 * 1024
_TNETSTRING_FLOW = re.compile(rb"^\d{1,12}:\d{1,6}:[A-Za-z_]")
_HAR_START = re.compile(rb'^\s*\{\s*"log"\s*:')


class Source(Protocol):
    """What :func:`open_source` returns: iterate records; ``name``, ``header``, ``problems``."""

    name: str
    header: Record | None
    problems: list[CaptureError]

    def __iter__(self) -> Iterator[Record]: ...


def sniff(head: bytes) -> Kind:
    """Which reader fits an input that starts with ``head``."""
    data = head
    if data[:2] == b"\x1f\x8b":
        try:
            data = zlib.decompressobj(wbits=31).decompress(data, HEAD)
        except zlib.error:
            return "capture"  # the capture reader reports the damage
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "pasted"  # UTF-16 text (PowerShell redirection)
    data = data.removeprefix(b"\xef\xbb\xbf")
    if _TNETSTRING_FLOW.match(data):
        return "flows"
    if b"\x00" in data[:4096]:
        return "capture"  # the capture reader says "binary data, not a capture"
    if _HAR_START.match(data):
        return "har"
    stripped = data.strip()
    if not stripped:
        return "capture"
    lines = [line for line in data.split(b"\n") if line.strip()]
    cut = (len(head) >= HEAD or len(data) >= HEAD) and not data.endswith(b"\n")
    if cut and len(lines) > 1:
        lines = lines[:-1]  # the head may have cut the last line
        cut = False
    try:
        first = orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        return _long_first_line(lines[0]) if cut else "pasted"
    if not isinstance(first, dict):
        return "pasted"
    if "kind" in first:
        return "capture"  # a capture record: a bad line further on is an error, not prose
    # JSON lines (bare events): every line is an object; one that is not JSON is reported by
    # the capture reader. Prose between the lines makes it a pasted log.
    if all(line.lstrip().startswith(b"{") for line in lines[:200]):
        return "capture"
    return "pasted"


def _long_first_line(line: bytes) -> Kind:
    """A first line longer than the sniffed head: JSONL if it looks like an object."""
    return "capture" if line.lstrip().startswith((b'{"kind"', b'{"type"')) else "pasted"


class _Prefixed(io.RawIOBase):
    """A stream that yields ``head`` and then the rest of ``stream`` (stdin after a sniff)."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._stream = stream
        self.name = getattr(stream, "name", "<stream>")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def open_source(
    source: str | os.PathLike[str] | IO[bytes],
    name: str | None = None,
    *,
    count_audio: bool = False,
) -> CaptureReader | HarSource | FlowSource | PastedSource:
    """Open any supported input as a stream of capture records.

    The result iterates records (``dict``) and has ``name``, ``problems`` (non-fatal errors, each
    naming its line) and ``header``. Unreadable input raises :class:`~rtscope.errors.CaptureError`.
    ``count_audio`` (analysis): capture files give audio events' base64 as ``{"bytes": N}``
    without parsing it (:class:`CaptureReader`); other inputs are read in full.
    """
    if isinstance(source, str | os.PathLike):
        label = name or str(source)
        path = Path(source)
        if path.is_dir():
            raise CaptureError(label, "is a directory", hint="pass the capture files inside it")
        try:
            with open(path, "rb") as handle:
                head = handle.read(HEAD)
        except FileNotFoundError:
            raise CaptureError(label, "no such file") from None
        except OSError as exc:
            raise CaptureError(label, f"cannot open: {exc.strerror}") from None
        stream: str | os.PathLike[str] | IO[bytes] = source
    else:
        label = name or str(getattr(source, "name", "<stream>"))
        head = source.read(HEAD)
        stream = io.BufferedReader(_Prefixed(head, source), buffer_size=HEAD)
    kind = sniff(head)
    if kind != "capture":
        from .importers.readers import FlowSource, HarSource, PastedSource
    if kind == "har":
        return HarSource(stream, label)
    if kind == "flows":
        return FlowSource(stream, label)
    if kind == "pasted":
        return PastedSource(stream, label)
    return CaptureReader(stream, label, count_audio=count_audio)
