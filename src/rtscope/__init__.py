"""rtscope: record, analyze and replay realtime AI sessions spoken over WebSocket."""

from __future__ import annotations

from ._version import __version__
from .errors import CaptureError, CaptureVersionError, InputError, RtscopeError

__all__ = ["CaptureError", "CaptureVersionError", "InputError", "RtscopeError", "__version__"]
