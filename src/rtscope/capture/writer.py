"""Writing capture files: private files, one line per record, each line on disk as it comes.

:class:`CaptureWriter` writes each record with a single ``write(2)`` on an ``O_APPEND`` descriptor
and no user-space buffer: a line is in the kernel's page cache when :meth:`CaptureWriter.write`
returns, so a ``kill -9`` of the writing process loses nothing written, ``tail -f`` shows the
session live, and several writers may append to one file without interleaving within a line.
No ``fsync`` is made per line (that would block on the device); :meth:`close` makes one.

Every :data:`DROP_STEP` bytes, a worker thread asks the kernel to write the capture's older pages
out and drop them from the page cache (``POSIX_FADV_DONTNEED``, which only ever drops pages already
on disk): a long recording then reuses the same few pages of memory instead of growing the page
cache by its whole size. On virtual machines that hand freed memory back to their host (free page
reporting, ballooning: the microVMs this project is measured on) every page the cache takes anew
costs a fault in the host: a ``write(2)`` appending 4 KB to a cache growing into fresh memory costs
2–3× one whose pages are reused (``bench/page_cache_writes.py``; docs/performance.md, session 4).
``RTSCOPE_DROP_BEHIND=0`` keeps the pages.

``mapped=True`` (``rtscope record --mapped``) copies lines into a memory map of the file instead
(:mod:`.mapped`): the same guarantee against ``kill -9``, less CPU per line where the kernel's write
is slow, but no ``tail -f`` while the file is open (it is longer than its lines until closed).

Files are created 0600 and directories 0700, whatever the process umask.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .codec import Record, dumps, header_record

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .mapped import MappedAppender
    from .workers import DropBehind

__all__ = [
    "DROP_BEHIND_ENV",
    "DROP_STEP",
    "CaptureWriter",
    "capture_filename",
    "ensure_private_dir",
]

#: Bytes between two requests to drop a capture's older pages from the page cache.
DROP_STEP = 1 << 20
#: ``0`` keeps a capture's pages in the page cache (for A/B measurements).
DROP_BEHIND_ENV = "RTSCOPE_DROP_BEHIND"


def _drop_behind_enabled() -> bool:
    return os.environ.get(DROP_BEHIND_ENV, "1").strip() not in ("0", "no", "off", "false")


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

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: dict[str, Any] | None = None,
        *,
        mapped: bool = False,
    ) -> None:
        self.path = Path(path)
        ensure_private_dir(self.path.parent)
        flags = os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        flags |= os.O_RDWR if mapped else os.O_WRONLY | os.O_APPEND
        self._fd: int | None = os.open(self.path, flags, 0o600)
        os.fchmod(self._fd, 0o600)  # the umask can only narrow the mode; make it exact
        #: Lines go through a memory map (:mod:`.mapped`) instead of one ``write(2)`` each.
        self._mapped: MappedAppender | None = None
        if mapped:
            self._mapped = self._map(self._fd)
        self.records = 0
        #: Bytes of lines written (the file's length, except while mapped: see :mod:`.mapped`).
        self.size = 0
        #: drop-behind: the size at which to ask next (never, if off or mapped), the ranges, and
        #: the request in flight (waited for before the descriptor is closed)
        self._drop_at = DROP_STEP if self._mapped is None and _drop_behind_enabled() else -1
        self._drop: DropBehind | None = None
        self._dropping: Future[None] | None = None
        self.write(header_record(time.time(), **(header or {})))

    def _map(self, fd: int) -> MappedAppender | None:
        from . import mapped  # only for mapped captures: it imports ctypes (~8 ms)

        try:
            return mapped.MappedAppender(fd, drop_behind=_drop_behind_enabled())
        except OSError as exc:
            os.ftruncate(fd, 0)
            if exc.errno == errno.ENOSPC:
                os.close(fd)
                os.unlink(self.path)
                raise
            # no mapping on this file system: one write(2) per line after all
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
            return None

    @property
    def mapped(self) -> bool:
        return self._mapped is not None

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
        if self._mapped is not None:
            self._mapped.write(line)  # all of the line or (OSError) nothing
        else:
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        self.records += 1
        self.size += len(line)
        if 0 <= self._drop_at <= self.size:
            self._drop_behind()

    def _drop_behind(self) -> None:
        """Hand the last two steps to a worker (:class:`.workers.DropBehind`)."""
        self._drop_at = self.size + DROP_STEP
        if self._dropping is not None and not self._dropping.done():
            return  # the kernel is slower than us: skip a turn
        from .workers import DropBehind, workers

        assert self._fd is not None
        if self._drop is None:
            self._drop = DropBehind()
        self._dropping = self._drop.request(workers(), self._fd, self.size)
        if self._dropping is None:
            self._drop_at = -1  # no worker any more

    def discard_after(self, size: int) -> None:
        """Cut a partly written line off (after an ``OSError``): the file ends at ``size``."""
        if self._mapped is not None or self._fd is None:
            return  # a mapped line is copied whole or not at all; the map must not shrink
        if os.fstat(self._fd).st_size > size:
            os.ftruncate(self._fd, size)

    def close(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if self._dropping is not None:
            self._dropping.result()  # the worker must be done with the descriptor before it goes
            self._dropping = None
        try:
            if self._mapped is not None:
                self._mapped.close()  # the file cut to its lines
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
