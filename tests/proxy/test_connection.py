"""ConnectionLog: gaps in a capture are recorded, partial lines never stay in the file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import orjson
import pytest

from rtscope.capture.writer import CaptureWriter
from rtscope.proxy.addon import Recorder
from rtscope.proxy.connection import ConnectionLog, LineSink


class _Redirected:
    """A CaptureWriter stand-in whose writes go to a real device (``/dev/full``: ENOSPC)."""

    def __init__(self, path: Path, device: str) -> None:
        self.path = path
        self.size = 0
        self._fd = os.open(device, os.O_WRONLY)

    def write_line(self, line: bytes) -> None:
        os.write(self._fd, line)

    def discard_after(self, size: int) -> None:
        pass  # nothing of a failed write reached ``path``

    def close(self) -> None:
        os.close(self._fd)


def _full_sink(tmp_path: Path) -> LineSink:
    path = tmp_path / "capture.jsonl"
    path.write_bytes(b"")
    return LineSink(_Redirected(path, "/dev/full"))  # type: ignore[arg-type]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_first_failure_raises_then_repeats_are_counted_silently(tmp_path: Path) -> None:
    state = ConnectionLog(conn="c", t_open=1.0, sink=_full_sink(tmp_path))
    with pytest.raises(OSError):
        state.write(b'{"kind":"msg"}\n', 10.0, 0)
    state.write(b'{"kind":"msg"}\n', 11.0, 1)
    state.write(b'{"kind":"msg"}\n', 12.0, 2)
    assert (state.incomplete_since, state.lost_from_seq, state.lost) == (10.0, 0, 3)
    assert "No space left" in state.last_error
    assert state.flush_incomplete() is False


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_unwritable_gap_is_announced_on_stderr_at_close(tmp_path: Path) -> None:
    err = io.StringIO()
    recorder = Recorder(err=err, out=io.StringIO())
    state = ConnectionLog(conn="c", t_open=1.0, sink=_full_sink(tmp_path))
    with pytest.raises(OSError):
        state.write(b"x\n", 1795000000.0, 0)
    recorder._summarize(state, {"t": 2.0, "code": 1000, "by": "client"})
    (line,) = err.getvalue().splitlines()
    assert "INCOMPLETE from 2026-" in line and "could not be written" in line
    assert "capture.jsonl" in line


def test_gap_record_is_written_with_the_next_line_once_space_returns(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path / "c.jsonl")
    state = ConnectionLog(conn="c", t_open=1.0, sink=LineSink(writer))
    state._lose(5.0, 7, "OSError: [Errno 28] No space left on device")
    state.write(b'{"kind":"msg","seq":9}\n', 6.0, 9)
    writer.close()
    lines = (tmp_path / "c.jsonl").read_bytes().splitlines()
    gap = orjson.loads(lines[1])
    assert gap["kind"] == "incomplete"
    assert (gap["since"], gap["from_seq"], gap["lost"]) == (5.0, 7, 1)
    assert orjson.loads(lines[2]) == {"kind": "msg", "seq": 9}
    assert state.incomplete_since is None


def test_partial_line_is_cut_after_a_failed_write(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path / "c.jsonl")
    sink = LineSink(writer)
    good = sink.size

    def short_then_fail(line: bytes) -> None:
        with open(writer.path, "ab") as f:  # a short write reached the file, then ENOSPC
            f.write(line[:5])
        raise OSError(28, "No space left on device")

    writer.write_line = short_then_fail  # type: ignore[method-assign]
    with pytest.raises(OSError):
        sink.write(b'{"kind":"msg","seq":1}\n')
    assert os.path.getsize(writer.path) == good
    writer.close()


def test_a_long_running_recorder_keeps_only_the_newest_summaries() -> None:
    from rtscope.proxy.addon import SUMMARIES_KEPT

    recorder = Recorder(err=io.StringIO(), out=io.StringIO())
    for n in range(SUMMARIES_KEPT + 5):
        state = ConnectionLog(conn=f"c{n}", t_open=1.0)
        recorder._summarize(state, {"t": 2.0, "code": 1000, "by": "client"})
    assert len(recorder.summaries) == SUMMARIES_KEPT
    assert recorder.summaries[0]["conn"] == "c5"
    assert recorder.summaries[-1]["conn"] == f"c{SUMMARIES_KEPT + 4}"
