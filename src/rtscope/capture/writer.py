"""Writing capture files: private files, one line per record, each line on disk as it comes.

:class:`CaptureWriter` writes each record with a single ``write(2)`` on an ``O_APPEND`` descriptor
and no user-space buffer: a line is in the kernel's page cache when :meth:`CaptureWriter.write`
returns, so a ``kill -9`` of the writing process loses nothing written, ``tail -f`` shows the
session live, and several writers may append to one file without interleaving within a line.
No ``fsync`` is made per line (that would block on the device); :meth:`close` makes one.

Files are created 0600 and directories 0700, whatever the process umask.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .codec import Record, dumps, header_record

__all__ = ["CaptureWriter", "capture_filename", "ensure_private_dir"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ensure_private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) as needed; a directory rtscope creates is 0700."""
    directory = Path(path)
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    directory.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, 0o700)
    return directory


def capture_filename(t: float, model: str | None, conn: str) -> str:
    """``20261121T101500Z_gpt-realtime_<conn>.jsonl``: ``ls`` sorts by time and shows the model."""
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ")
    model_part = _SAFE.sub("-", model).strip("-")[:60] if model else "unknown"
    return f"{stamp}_{model_part or 'unknown'}_{_SAFE.sub('-', conn)}.jsonl"


class CaptureWriter:
    """Append records to a new capture file.

    Args:
        path: the file to create; it must not exist (captures are never overwritten).
        header: extra fields for the header record (e.g. what a replay replays).
    """

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        ensure_private_dir(self.path.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
        self._fd: int | None = os.open(self.path, flags, 0o600)
        os.fchmod(self._fd, 0o600)  # the umask can only narrow the mode; make it exact
        self.records = 0
        self.write(header_record(time.time(), **(header or {})))

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, record: Record) -> None:
        """Write one record as one line. Raises ``OSError`` (e.g. disk full) to the caller."""
        self.write_line(dumps(record))

    def write_line(self, line: bytes) -> None:
        """Write one already-encoded line (ending in ``\\n``) with as few syscalls as possible."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        view = memoryview(line)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.records += 1

    def close(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
