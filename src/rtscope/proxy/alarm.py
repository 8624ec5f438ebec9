"""Loud, deduplicated error reporting for the fail-open recorder.

The recorder must never break, drop or delay traffic because of its own problems, but it must not
fail silently either. :class:`Alarm` prints one line on stderr the first time a *kind* of problem
happens (a kind is where it happened plus the exception type / errno), and stays quiet for repeats:
a full disk must not print a line per audio chunk.
"""

from __future__ import annotations

import errno as errno_mod
import queue
import sys
import threading
from typing import TextIO

from ..capture.redact import redact_text

__all__ = ["Alarm", "describe", "kind_of"]


def describe(exc: BaseException) -> str:
    """``OSError: [Errno 28] No space left on device`` style text, secrets removed."""
    return redact_text(f"{type(exc).__name__}: {exc}")


def kind_of(where: str, exc: BaseException) -> str:
    """What makes two problems "the same kind": where, plus the errno or exception type."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{where}:{errno_mod.errorcode.get(exc.errno, exc.errno)}"
    return f"{where}:{type(exc).__name__}"


class Alarm:
    """Report each kind of recorder problem once on ``stream`` (stderr by default).

    :meth:`say` prints any line on the same stream (``stdout=True``: stdout by default).
    """

    def __init__(self, stream: TextIO | None = None, *, stdout: bool = False) -> None:
        self._stream = stream
        self._stdout = stdout
        self.seen: dict[str, int] = {}

    def report(self, where: str, exc: BaseException, context: str = "") -> bool:
        """Count the problem; print it if its kind is new. Returns ``True`` when printed."""
        kind = kind_of(where, exc)
        count = self.seen.get(kind, 0)
        self.seen[kind] = count + 1
        if count:
            return False
        suffix = f" ({context})" if context else ""
        self.say(
            f"rtscope: RECORDER ERROR while {where}{suffix}: {describe(exc)}; traffic keeps "
            "flowing, the capture may be incomplete; further errors of this kind are not repeated"
        )
        return True

    def say(self, line: str) -> None:
        """Print one line, never raising and never blocking the proxy.

        A stream given to the constructor (tests, embedding) is written at once. The process's
        own stdout/stderr are written by a thread behind a bounded queue: a pipe nobody reads
        (``rtscope record 2>&1 | slow-consumer``) fills up, and a blocking ``print`` on the event
        loop would stall every connection. Lines that do not fit are counted and said later.
        """
        if self._stream is not None:
            _write(self._stream, line)
            return
        _printer(sys.stdout if self._stdout else sys.stderr).put(line)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until the lines said so far are written (call at shutdown)."""
        if self._stream is None:
            _printer(sys.stdout if self._stdout else sys.stderr).flush(timeout)


def _write(stream: TextIO, line: str) -> None:
    try:
        print(line, file=stream, flush=True)
    except Exception:  # noqa: BLE001 - nothing left to report to
        pass


class _Printer:
    """A daemon thread that writes lines to one stream, behind a queue of bounded size."""

    def __init__(self, stream: TextIO, size: int = 1000) -> None:
        self.stream = stream
        self.queue: queue.Queue[str] = queue.Queue(size)
        self.dropped = 0
        self.thread = threading.Thread(target=self._run, name="rtscope-printer", daemon=True)
        self.thread.start()

    def put(self, line: str) -> None:
        try:
            self.queue.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            line = self.queue.get()
            _write(self.stream, line)
            if self.dropped and self.queue.empty():
                dropped, self.dropped = self.dropped, 0
                _write(
                    self.stream, f"rtscope: {dropped} output line(s) dropped: output was not read"
                )
            self.queue.task_done()

    def flush(self, timeout: float) -> None:
        done = threading.Event()

        def wait() -> None:
            self.queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        done.wait(timeout)


_PRINTERS: dict[int, _Printer] = {}
_PRINTERS_LOCK = threading.Lock()


def _printer(stream: TextIO) -> _Printer:
    with _PRINTERS_LOCK:
        printer = _PRINTERS.get(id(stream))
        if printer is None or printer.stream is not stream:
            printer = _PRINTERS[id(stream)] = _Printer(stream)
        return printer
