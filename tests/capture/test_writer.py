"""CaptureWriter: private files, lines on disk as they are written."""

from __future__ import annotations

import ctypes
import mmap
import os
import random
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rtscope.capture import CaptureReader, CaptureWriter, capture_filename, ensure_private_dir
from rtscope.capture.mapped import WINDOW
from rtscope.capture.writer import DROP_BEHIND_ENV, DROP_STEP


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


def _fs_type(path: Path) -> str:
    """The type of the file system holding ``path`` (from /proc/self/mounts, longest mount)."""
    best, kind = "", ""
    with open("/proc/self/mounts") as mounts:
        for entry in mounts:
            _, point, fstype, *_ = entry.split()
            if str(path).startswith(point) and len(point) > len(best):
                best, kind = point, fstype
    return kind


def _resident(path: Path, length: int) -> list[bool]:
    """Which pages of ``path``'s first ``length`` bytes are in the page cache (``mincore``)."""
    pages = -(-length // mmap.PAGESIZE)
    vec = (ctypes.c_ubyte * pages)()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), length, access=mmap.ACCESS_COPY) as region:
        anchor = ctypes.c_char.from_buffer(region)  # mapping alone faults nothing in
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            addr = ctypes.c_void_p(ctypes.addressof(anchor))
            assert libc.mincore(addr, ctypes.c_size_t(length), vec) == 0, ctypes.get_errno()
        finally:
            del anchor
    return [bool(v & 1) for v in vec]


def _fill(writer: CaptureWriter, nbytes: int, line: bytes) -> None:
    for _ in range(-(-nbytes // len(line))):
        writer.write_line(line)


@pytest.mark.parametrize("mapped", [False, True], ids=["write", "mapped"])
@pytest.mark.parametrize("drop", [True, False], ids=["drop-behind", "keep"])
def test_a_long_capture_leaves_its_older_pages_out_of_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drop: bool, mapped: bool
) -> None:
    if _fs_type(tmp_path) in ("tmpfs", "ramfs", "overlay"):
        pytest.skip(f"{tmp_path} is not on a disk file system: its pages are never dropped")
    if not drop:
        monkeypatch.setenv(DROP_BEHIND_ENV, "0")
    path = tmp_path / "long.jsonl"
    line = b"x" * 4095 + b"\n"
    assert DROP_STEP == WINDOW  # (a mapped capture asks as it leaves a window)
    with CaptureWriter(path, mapped=mapped) as writer:
        assert writer.mapped is mapped
        _fill(writer, DROP_STEP, line)  # first request: the writeback of the first step starts
        first = writer.size
        with open(path, "rb") as other:
            os.fsync(other.fileno())  # (written back for sure, whatever the device's pace)
        _fill(writer, DROP_STEP + len(line), line)  # second request: the first step is dropped
    # close() waited for the worker; the first step's whole pages, minus the header's page
    early = _resident(path, first - first % mmap.PAGESIZE)[1:]
    assert early
    if drop:
        assert not any(early), f"{sum(early)} of {len(early)} pages still cached"
    else:
        assert all(early)


def test_a_capture_written_across_many_drop_steps_is_byte_exact(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    rng = random.Random(7)
    lines = [b'{"n":%d,"pad":"%s"}\n' % (i, b"z" * rng.randrange(0, 9000)) for i in range(2000)]
    with CaptureWriter(path) as writer:
        header = path.read_bytes()
        for one in lines:
            writer.write_line(one)
        assert writer.size > 4 * DROP_STEP
    assert path.read_bytes() == header + b"".join(lines)


def test_lines_are_written_when_no_worker_can_take_the_drop_behind_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shut_down_pool: ThreadPoolExecutor
) -> None:
    from rtscope.capture import workers

    monkeypatch.setattr(workers, "workers", lambda: shut_down_pool)
    path = tmp_path / "late.jsonl"
    line = b"w" * 4095 + b"\n"
    with CaptureWriter(path) as writer:
        header = path.read_bytes()
        _fill(writer, 3 * DROP_STEP, line)
        count = writer.records - 1
    assert path.read_bytes() == header + line * count
