"""Loud, deduplicated error reporting for the fail-open recorder.

The recorder must never break, drop or delay traffic because of its own problems, but it must not
fail silently either. :class:`Alarm` prints one line on stderr the first time a *kind* of problem
happens (a kind is where it happened plus the exception type / errno), and stays quiet for repeats:
a full disk must not print a line per audio chunk.
"""

from __future__ import annotations

import errno as errno_mod
import sys
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
        """Print one line on stderr, never raising (a closed stderr must not break traffic)."""
        stream = self._stream or (sys.stdout if self._stdout else sys.stderr)
        try:
            print(line, file=stream, flush=True)
        except Exception:  # noqa: BLE001 - nothing left to report to
            pass
