"""Appending capture lines through a shared memory map (``rtscope record --mapped``).

Why: each ``write(2)`` that appends a line makes the kernel put fresh page-cache pages under it,
one at a time. Measured inside the running proxy on this project's machines (2 vCPU microVMs,
``bench/hook_variant.py``, docs/performance.md), that cost 35–50 µs of CPU per 4 KB message
and 10–25 µs per 200 B one, far more than the same call in a tight loop: a third of what the whole
proxy spends per message (18–34 µs per 4 KB message since the writer drops its pages behind it,
:mod:`.writer`). A copy into pages that were mapped and populated beforehand, in bulk, by a worker
thread costs ~1 µs.

How: the file is grown one window (:data:`WINDOW`) at a time with ``posix_fallocate`` (blocks
reserved: a full disk is an ``OSError`` there, never a ``SIGBUS`` later), the window is mapped
``MAP_SHARED`` and populated (``MADV_POPULATE_WRITE``), all in the worker thread, while the event
loop copies lines into the current window. A line is in the page cache, the kernel's, the moment
:meth:`MappedAppender.write` returns, exactly as after a ``write(2)``: a ``kill -9`` of the process
loses nothing written (the kernel owns those pages). :meth:`MappedAppender.close` cuts the file to
what was written.

The price, and why it is not the default: until the close, the file is longer than its content;
what follows the last line is NUL bytes (up to two windows: 2 MiB). ``tail -f`` does not work on
such a file, and a recorder killed before closing leaves the NUL bytes there (rtscope's reader
skips them and says so; ``truncate -s <size>`` removes them). Nothing may shrink the file while it
is mapped.

Windows left behind are dropped from the page cache once written back, as :mod:`.writer` does
for its lines (``drop_behind=False``: kept).
"""

from __future__ import annotations

import ctypes
import mmap
import os
from concurrent.futures import Future

from .workers import DropBehind, workers

__all__ = ["MADV_POPULATE_WRITE", "WINDOW", "MappedAppender"]

#: Bytes mapped at a time (a multiple of the allocation granularity): the most NUL bytes a killed
#: recorder leaves is two of them (the current window and the one prepared ahead), and what an open
#: capture adds to the process's resident pages.
WINDOW = 1 << 20

#: Linux 5.14+: fault the pages of a range in, writable, in one call (``mmap`` exposes it from
#: Python 3.13 on; the value is Linux's own).
MADV_POPULATE_WRITE = 23


_LIBC = ctypes.CDLL(None, use_errno=True)


def _populate(window: mmap.mmap) -> None:
    """Fault every page of ``window`` in, writable; through ctypes, which lets go of the GIL
    (``mmap.madvise`` holds it: ~0.15 ms per MiB, a stall of the event loop). On a kernel older
    than 5.14 this does nothing and the pages fault in as lines are copied."""
    anchor = ctypes.c_char.from_buffer(window)
    try:
        _LIBC.madvise(ctypes.c_void_p(ctypes.addressof(anchor)), len(window), MADV_POPULATE_WRITE)
    finally:
        del anchor  # an exported buffer would keep the map from being closed


class MappedAppender:
    """Append lines to ``fd`` (opened read-write, not ``O_APPEND``) from byte ``start`` on.

    One writer per file; :meth:`write` is called from one thread at a time. Raises ``OSError``
    when the file cannot be grown (disk full), having written nothing of that line.
    """

    def __init__(
        self, fd: int, start: int = 0, window: int | None = None, *, drop_behind: bool = True
    ) -> None:
        window = WINDOW if window is None else window
        if window <= 0 or window % mmap.ALLOCATIONGRANULARITY:
            raise ValueError(f"window must be a positive multiple of {mmap.ALLOCATIONGRANULARITY}")
        self._fd = fd
        self._window = window
        #: Bytes of the file that hold lines (the file's length once closed).
        self.size = start
        self._base = start - start % window
        self._pool = workers()
        self._next: Future[mmap.mmap] | None = None
        #: windows being unmapped by a worker; waited for at the close
        self._dropping: list[Future[None]] = []
        self._map: mmap.mmap | None = self._prepare(self._base)
        self.closed = False
        #: drop-behind, window by window (as :mod:`.writer` does; ``None``: off)
        self._drop = DropBehind(self._base) if drop_behind else None

    def _prepare(self, base: int) -> mmap.mmap:
        """Grow the file to cover ``[base, base + window)``, map that window, populate it."""
        os.posix_fallocate(self._fd, base, self._window)
        window = mmap.mmap(self._fd, self._window, offset=base)
        _populate(window)
        return window

    def write(self, line: bytes) -> None:
        current = self._map
        if current is None:
            raise ValueError("the capture is closed")
        at = self.size - self._base
        end = at + len(line)
        if end <= self._window:
            current[at:end] = line
            self.size += len(line)
            if self._next is None and end > self._window >> 1:
                try:
                    self._next = self._pool.submit(self._prepare, self._base + self._window)
                except RuntimeError:  # the interpreter is shutting down: prepared when needed
                    pass
            return
        self._write_across(line, at)

    def _write_across(self, line: bytes, at: int) -> None:
        """A line that ends past the current window: every window it needs first, then copy."""
        assert self._map is not None
        needed = (at + len(line) - 1) // self._window  # windows after the current one
        ahead: list[mmap.mmap] = []
        try:
            for k in range(1, needed + 1):
                pending, self._next = (self._next, None) if k == 1 else (None, None)
                base = self._base + k * self._window
                ahead.append(pending.result() if pending is not None else self._prepare(base))
        except OSError:
            for window in ahead:  # the file stays as long as it grew; size says what is lines
                window.close()
            raise
        windows = [self._map, *ahead]
        view = memoryview(line)
        for i, window in enumerate(windows):
            start = at if i == 0 else 0
            piece = view[: self._window - start]
            window[start : start + len(piece)] = piece
            view = view[len(piece) :]
        self._dropping = [f for f in self._dropping if not f.done()]
        for window in windows[:-1]:
            try:
                self._dropping.append(self._pool.submit(window.close))  # munmap off this thread
            except RuntimeError:  # the interpreter is shutting down: no worker takes it
                window.close()
        self._map = windows[-1]
        self._base += needed * self._window
        self.size += len(line)
        if self._drop is not None:
            # the windows unmapped a turn ago are dropped, the ones just left start their writeback
            dropping = self._drop.request(self._pool, self._fd, self._base)
            if dropping is None:
                self._drop = None  # no worker any more
            else:
                self._dropping.append(dropping)

    def close(self) -> None:
        """Unmap, cut the file to :attr:`size` (idempotent). Does not close ``fd``."""
        if self.closed:
            return
        self.closed = True
        pending, self._next = self._next, None
        if pending is not None:
            try:
                pending.result().close()
            except OSError:
                pass
        for dropping in self._dropping:
            dropping.result()
        self._dropping = []
        if self._map is not None:
            self._map.close()
            self._map = None
        os.ftruncate(self._fd, self.size)
