"""CaptureWriter: private files, lines on disk as they are written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rtscope.capture import CaptureReader, CaptureWriter, capture_filename, ensure_private_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_0600_and_new_directories_0700_even_with_a_permissive_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "a" / "b" / "cap.jsonl"
        with CaptureWriter(path):
            pass
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "b") == 0o700


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    ensure_private_dir(existing)
    assert mode(existing) == 0o755


def test_each_line_is_readable_before_close(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    writer = CaptureWriter(path, header={"replays": "x.jsonl"})
    writer.write(
        {
            "kind": "open",
            "conn": "c",
            "t": 1.0,
            "url": "ws://h",
            "request_headers": {},
            "response_headers": {},
            "status": 101,
        }
    )
    # Another reader (tail -f) sees both lines now, without any flush or close.
    reader = CaptureReader(path)
    assert [r["kind"] for r in reader] == ["open"]
    assert reader.header is not None and reader.header["replays"] == "x.jsonl"
    writer.close()
    assert writer.closed


def test_never_overwrites_an_existing_capture(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl"
    path.write_text("precious\n")
    with pytest.raises(FileExistsError):
        CaptureWriter(path)
    assert path.read_text() == "precious\n"


def test_filename_sorts_by_time_and_shows_the_model() -> None:
    name = capture_filename(1763720100.0, "gpt-realtime-2025-08-28", "3f2a9c1e")
    assert name == "20251121T101500Z_gpt-realtime-2025-08-28_3f2a9c1e.jsonl"
    assert capture_filename(0.0, None, "c/1") == "19700101T000000Z_unknown_c-1.jsonl"
    assert (
        capture_filename(0.0, "../../etc/passwd", "c")
        == "19700101T000000Z_..-..-etc-passwd_c.jsonl"
    )
