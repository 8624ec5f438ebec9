"""rtscope's exceptions, split by blame.

- :class:`RtscopeError`: base of everything rtscope raises on purpose.

  - :class:`InputError`: the user's input is unusable (a file, a line, an option). The CLI prints
    ``rtscope: <file>:<line>: <problem> (<what to do>)`` and exits with code 2.

    - :class:`CaptureError`: a capture, HAR, flow file or pasted log cannot be read.

      - :class:`CaptureVersionError`: the capture was written by a newer rtscope.

  - :class:`RecorderError`: the recorder cannot start (port taken, directory not writable).
  - :class:`ReplayError`: replay or serve could not run as asked.

A bug in the *recorded peer* is never an exception: it is a finding (see ``rtscope.analyzers``).
"""

from __future__ import annotations

__all__ = [
    "CaptureError",
    "CaptureVersionError",
    "InputError",
    "RecorderError",
    "ReplayError",
    "RtscopeError",
]


class RtscopeError(Exception):
    """Base class of rtscope's own errors."""


class InputError(RtscopeError):
    """Unusable input. ``str(err)`` is one line: ``<source>:<line>: <problem> (<hint>)``."""

    def __init__(
        self, source: str, problem: str, *, line: int | None = None, hint: str | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        text = f"{where}: {self.problem}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class CaptureError(InputError):
    """A capture (or an importable file) cannot be read."""


class CaptureVersionError(CaptureError):
    """The capture's format version is newer than this rtscope reads."""


class RecorderError(RtscopeError):
    """The recorder cannot start or run as configured."""


class ReplayError(RtscopeError):
    """Replay or serve cannot run as asked."""
