"""Importers: HAR, mitmproxy flow files and pasted logs into capture records.

Pure parts: :mod:`.har` (HAR documents), :mod:`.flows` (mitmproxy flow objects), :mod:`.pasted`
(events in free text, with :mod:`.relaxed` and :mod:`.yamlish`). I/O shells with the
``CaptureReader`` interface: :mod:`.readers`. Use :func:`rtscope.capture.sources.open_source`.
"""

from .readers import FlowSource, HarSource, ImportedSource, PastedSource

__all__ = ["FlowSource", "HarSource", "ImportedSource", "PastedSource"]
