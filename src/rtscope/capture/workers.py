"""The worker threads that keep kernel chores off the recorder's event loop.

Shared by every capture of the process and started on first use (most captures never need one):
preparing and dropping windows of mapped captures (:mod:`.mapped`), and asking the kernel to drop
the page cache behind a capture's end (:mod:`.writer`).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["DropBehind", "drop_pages", "workers"]

_WORKERS: ThreadPoolExecutor | None = None


def workers() -> ThreadPoolExecutor:
    """The process's capture workers (two threads), created on the first call."""
    global _WORKERS
    if _WORKERS is None:
        _WORKERS = ThreadPoolExecutor(2, thread_name_prefix="rtscope-capture")
    return _WORKERS


def drop_pages(fd: int, start: int, length: int) -> None:
    """Start the writeback of ``[start, start + length)`` of ``fd`` and drop from the page cache
    the pages of it already written back. Dirty or mapped pages stay: nothing is ever lost, at
    worst a page stays cached. Advice only: errors are ignored."""
    try:
        os.posix_fadvise(fd, start, length, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass


class DropBehind:
    """Which part of a growing file to hand to :func:`drop_pages` each time it grew by a step.

    Each request covers the last two steps: the older one, whose writeback the previous request
    started (written back since: dropped now), and the newer one (its writeback starts). A request
    is a worker's job; after :meth:`request` returned ``None`` (no worker takes jobs any more: the
    interpreter is shutting down) the caller stops asking.
    """

    def __init__(self, start: int = 0) -> None:
        self._from = self._mid = start

    def request(self, pool: ThreadPoolExecutor, fd: int, end: int) -> Future[None] | None:
        """Ask ``pool`` to drop behind ``end`` (the file's length now)."""
        start = self._from
        try:
            future = pool.submit(drop_pages, fd, start, end - start)
        except RuntimeError:  # the interpreter is shutting down: advice is not worth a lost line
            return None
        self._from, self._mid = self._mid, end
        return future
