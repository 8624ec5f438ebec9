"""Capture format v1: records, reader, writer, redaction. See docs/capture-format.md.

This package imports neither mitmproxy nor websockets: everything that reads captures uses it.
"""

from __future__ import annotations

from .codec import (
    FORMAT,
    VERSION,
    AudioMode,
    Record,
    close_record,
    dumps,
    header_record,
    message_record,
    message_records,
    open_record,
    payload_of,
)
from .reader import CaptureReader, read_capture
from .writer import CaptureWriter, capture_filename, ensure_private_dir

__all__ = [
    "FORMAT",
    "VERSION",
    "AudioMode",
    "CaptureReader",
    "CaptureWriter",
    "Record",
    "capture_filename",
    "close_record",
    "dumps",
    "ensure_private_dir",
    "header_record",
    "message_record",
    "message_records",
    "open_record",
    "payload_of",
    "read_capture",
]
