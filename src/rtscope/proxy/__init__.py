"""The recorder: a mitmproxy addon that records Realtime sessions, and ``rtscope record``'s proxy.

- :class:`~rtscope.proxy.addon.Recorder`: the addon (``mitmdump -s "$(rtscope addon-path)"``).
- :class:`~rtscope.proxy.master.RecordProxy` / :class:`~rtscope.proxy.master.RecordConfig`:
  mitmproxy in process with a lean addon set (``rtscope record``, tests, the demo).

Importing this package does not import mitmproxy; starting a proxy does.
See docs/recording.md.
"""

from __future__ import annotations

from .addon import Recorder, format_summary
from .master import DEFAULT_PORT, DEFAULT_UPSTREAM, RecordConfig, RecordProxy

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_UPSTREAM",
    "RecordConfig",
    "RecordProxy",
    "Recorder",
    "format_summary",
]
