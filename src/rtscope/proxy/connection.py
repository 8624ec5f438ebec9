"""Per-connection recording state: sequence numbers, counts, and writing lines that may fail.

A :class:`ConnectionLog` is what the addon keeps for one WebSocket connection. Its :meth:`write`
appends one encoded line to the capture; on a write error (disk full) it remembers from when the
capture is incomplete, and from then on first tries to append an ``incomplete`` record (as soon as
space returns, or at close) before writing anything else. Lines are never left half-written: a
partial line is cut off again, so a capture stays readable whatever happened.

Record written when the capture has a gap::

    {"kind":"incomplete","conn":"…","t":<when written>,"since":<t of first lost line>,
     "from_seq":<first lost seq or null>,"lost":<lines lost>,"reason":"OSError: [Errno 28] …"}
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..capture.codec import dumps
from ..capture.writer import CaptureWriter
from .alarm import describe

__all__ = ["ConnectionLog", "LineSink", "iso"]


def iso(t: float) -> str:
    """``2026-11-21T10:15:00.123Z`` for messages."""
    stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class LineSink:
    """A capture file that tracks its good length, so that a failed write leaves no partial line."""

    def __init__(self, writer: CaptureWriter) -> None:
        self.writer = writer
        self.path: Path = writer.path

    @property
    def size(self) -> int:
        """Bytes of whole lines in the file (the writer counts only lines written whole)."""
        return self.writer.size

    def write(self, line: bytes) -> None:
        try:
            self.writer.write_line(line)
        except OSError:
            self._cut_partial()
            raise

    def _cut_partial(self) -> None:
        # Error path only (e.g. ENOSPC after a short write): remove the half-written line.
        try:
            self.writer.discard_after(self.size)
        except OSError:
            pass

    def close(self) -> None:
        self.writer.close()


@dataclass
class ConnectionLog:
    """One WebSocket connection being recorded."""

    conn: str
    t_open: float
    sink: LineSink | None = None
    owns_sink: bool = True
    seq: int = 0
    from_client: int = 0
    from_server: int = 0
    incomplete_since: float | None = None
    lost_from_seq: int | None = None
    lost: int = 0
    last_error: str = ""
    errors_seen: set[str] = field(default_factory=set)

    @property
    def path(self) -> Path | None:
        return self.sink.path if self.sink else None

    def next_seq(self, from_client: bool) -> int:
        seq = self.seq
        self.seq += 1
        if from_client:
            self.from_client += 1
        else:
            self.from_server += 1
        return seq

    def write(self, line: bytes, t: float, seq: int | None = None) -> None:
        """Append ``line``; raise the first ``OSError`` of a gap, swallow the repeats."""
        if self.sink is None:
            self._lose(t, seq, "the capture file could not be opened")
            return
        if self.incomplete_since is not None:
            # The gap record goes out together with the next line that fits (one write), so a
            # few free bytes never produce a gap record followed at once by another gap.
            if not self.flush_incomplete(line):
                self._lose(t, seq, self.last_error)
            return
        try:
            self.sink.write(line)
        except OSError as exc:
            self._lose(t, seq, describe(exc))
            raise

    def _lose(self, t: float, seq: int | None, reason: str) -> None:
        if self.incomplete_since is None:
            self.incomplete_since = t
            self.lost_from_seq = seq
        self.lost += 1
        self.last_error = reason

    def flush_incomplete(self, then: bytes = b"") -> bool:
        """Try to write the ``incomplete`` record (and ``then``, in the same write).

        Returns ``True`` when there is no gap left to report.
        """
        if self.incomplete_since is None:
            return True
        if self.sink is None:
            return False
        record = {
            "kind": "incomplete",
            "conn": self.conn,
            "t": round(time.time(), 6),
            "since": round(self.incomplete_since, 6),
            "from_seq": self.lost_from_seq,
            "lost": self.lost,
            "reason": self.last_error,
        }
        try:
            self.sink.write(dumps(record) + then)
        except OSError:
            return False
        self.incomplete_since = None
        self.lost_from_seq = None
        self.lost = 0
        return True
