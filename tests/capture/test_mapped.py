"""Lines appended through a memory map: byte for byte what was written, across windows, in the
kernel's page cache before ``write`` returns (``kill -9``), and nothing of a line that did not fit."""

from __future__ import annotations

import errno
import mmap
import os
import signal
import stat
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtscope.capture.mapped import MappedAppender
from rtscope.capture.reader import CaptureReader
from rtscope.capture.writer import CaptureWriter

SMALL = mmap.ALLOCATIONGRANULARITY  # the smallest window: lines cross windows all the time


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lengths=st.lists(st.integers(min_value=0, max_value=3 * SMALL), max_size=30))
def test_the_file_holds_exactly_the_lines_across_windows(
    tmp_path: Path, lengths: list[int]
) -> None:
    path = tmp_path / "lines.bin"
    path.unlink(missing_ok=True)
    lines = [bytes([65 + i % 26]) * n for i, n in enumerate(lengths)]
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        appender = MappedAppender(fd, window=SMALL)
        for line in lines:
            appender.write(line)
        data = b"".join(lines)
        # before the close: the lines, then NUL bytes up to a whole number of windows
        before = path.read_bytes()
        assert before[: len(data)] == data
        assert before[len(data) :].strip(b"\0") == b""
        assert len(before) % SMALL == 0 and len(before) >= len(data)
        appender.close()
        appender.close()
    finally:
        os.close(fd)
    assert path.read_bytes() == data


def test_starts_where_the_file_ends_when_that_is_not_a_window_boundary(tmp_path: Path) -> None:
    path = tmp_path / "lines.bin"
    path.write_bytes(b"head\n")
    fd = os.open(path, os.O_RDWR)
    try:
        appender = MappedAppender(fd, start=5, window=SMALL)
        appender.write(b"x" * (2 * SMALL) + b"\n")
        appender.close()
    finally:
        os.close(fd)
    assert path.read_bytes() == b"head\n" + b"x" * (2 * SMALL) + b"\n"


def test_window_must_be_a_multiple_of_the_granularity(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with pytest.raises(ValueError, match="multiple"):
            MappedAppender(fd, window=SMALL + 1)
    finally:
        os.close(fd)


def test_writing_after_close_is_an_error(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path / "c.jsonl", mapped=True)
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write_line(b"{}\n")


def test_mapped_writer_is_private_and_reads_like_any_capture(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, mapped=True) as writer:
        assert writer.mapped
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for seq in range(3):
            writer.write({"kind": "msg", "conn": "c", "seq": seq, "from": "client", "text": "x"})
        # still open: readable up to its last line; the unused rest is named, not an error
        reader = CaptureReader(path)
        assert [r["seq"] for r in reader] == [0, 1, 2] and reader.header is not None
        (problem,) = reader.problems
        assert "was not closed" in str(problem) and "NUL bytes" in str(problem)
    reader = CaptureReader(path)
    assert [r["kind"] for r in reader] == ["msg", "msg", "msg"] and reader.header is not None
    assert reader.problems == []
    assert path.stat().st_size == writer.size


_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from rtscope.capture.writer import CaptureWriter
    w = CaptureWriter(sys.argv[1], mapped=True)
    for seq in range(int(sys.argv[2])):
        w.write({"kind": "msg", "conn": "c", "seq": seq, "from": "server", "text": "y" * 3000})
    w.write_line(b'{"kind":"msg","conn":"c","seq":-1,')  # a line cut mid-way, as by a crash
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_kill_9_loses_no_line_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, str(path), "3000"], capture_output=True, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    reader = CaptureReader(path)
    assert [r["seq"] for r in reader if r["kind"] == "msg"] == list(range(3000))
    (problem,) = reader.problems
    assert "NUL bytes after a cut line" in str(problem)


_NO_ROOM = textwrap.dedent(
    """
    import errno, json, resource, signal, sys
    from rtscope.capture import mapped
    from rtscope.capture.writer import CaptureWriter
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG, not a signal
    mapped.WINDOW = 4 * mapped.mmap.ALLOCATIONGRANULARITY
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * mapped.WINDOW, 2 * mapped.WINDOW))
    w = CaptureWriter(sys.argv[1], mapped=True)
    out = {"written": 0}
    try:
        while True:
            w.write_line(b"z" * 999 + b"\\n")
            out["written"] += 1
    except OSError as exc:
        out["errno"] = exc.errno
    try:
        w.write_line(b"z" * 999 + b"\\n")  # still no room: still nothing written
    except OSError:
        pass
    w.close()
    print(json.dumps(out))
    """
)


def test_a_file_that_cannot_grow_gets_no_part_of_the_line_that_did_not_fit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "full.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _NO_ROOM, str(path)], capture_output=True, check=True
    )
    out = orjson.loads(done.stdout)
    assert out["errno"] == errno.EFBIG
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    assert len(lines) == 1 + out["written"]  # the header, then every line that was accepted
    assert all(line == b"z" * 999 + b"\n" for line in lines[1:])
    # the writes stopped when the next window could not be reserved, not at the file's limit
    window = 4 * mmap.ALLOCATIONGRANULARITY
    assert window < len(data) <= 2 * window


def _no_mapping(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Every attempt to map a capture fails with ``code``."""

    def refuse(fd: int, *args: Any, **kwargs: Any) -> MappedAppender:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("rtscope.capture.mapped.MappedAppender", refuse)


def test_a_file_system_without_mappings_gets_one_write_per_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_mapping(monkeypatch, errno.ENODEV)
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, mapped=True) as writer:
        assert not writer.mapped
        writer.write({"kind": "msg", "conn": "c", "seq": 0, "from": "client", "text": "x"})
        assert CaptureReader(path).problems == []
    reader = CaptureReader(path)
    assert [r["kind"] for r in reader] == ["msg"] and reader.header is not None


def test_no_room_for_the_first_window_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_mapping(monkeypatch, errno.ENOSPC)
    with pytest.raises(OSError, match="No space"):
        CaptureWriter(tmp_path / "c.jsonl", mapped=True)
    assert list(tmp_path.iterdir()) == []


def test_lines_are_mapped_whole_when_no_worker_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shut_down_pool: ThreadPoolExecutor
) -> None:
    """At interpreter shutdown the workers take nothing more: windows are prepared, unmapped and
    advised about in the writing thread, or not advised about at all, and every line lands."""
    import rtscope.capture.mapped as mapped

    monkeypatch.setattr(mapped, "workers", lambda: shut_down_pool)
    path = tmp_path / "late.jsonl"
    lines = [b'{"n":%d,"pad":"%s"}\n' % (i, b"q" * (i * 37 % 9000)) for i in range(400)]
    with CaptureWriter(path, mapped=True) as writer:
        assert writer.mapped
        header = path.read_bytes()[: writer.size]
        for line in lines:
            writer.write_line(line)
    assert path.read_bytes() == header + b"".join(lines)
