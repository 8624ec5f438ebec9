"""One entry point for every input rtscope reads: :func:`open_source`.

Captures (plain or gzip, with or without header, bare-event JSONL) are read by
:class:`~rtscope.capture.reader.CaptureReader`. HAR files, mitmproxy flow files and pasted logs are
converted on the fly by the importers in :mod:`rtscope.capture.importers`.
"""

from __future__ import annotations

import os
from typing import IO

from .reader import CaptureReader

__all__ = ["open_source"]


def open_source(
    source: str | os.PathLike[str] | IO[bytes], name: str | None = None
) -> CaptureReader:
    """Open any supported input as a stream of capture records.

    The result iterates records (``dict``) and has ``name``, ``problems`` (non-fatal errors, each
    naming its line) and ``header``. Unreadable input raises :class:`~rtscope.errors.CaptureError`.
    """
    return CaptureReader(source, name)
