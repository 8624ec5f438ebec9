"""CaptureReader: every input shape of issue 2, good and bad, from real files on disk."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest

from rtscope.capture import CaptureReader, CaptureWriter, message_record, open_record
from rtscope.capture.codec import dumps
from rtscope.errors import CaptureError, CaptureVersionError

HEADER = b'{"kind":"header","format":"rtscope.capture","version":1,"created":"2026-11-21T10:15:00Z","tool":"rtscope 0.1.0"}\n'
OPEN = b'{"kind":"open","conn":"a1","t":1763720100.0,"url":"ws://127.0.0.1:9/v1/realtime?model=gpt-realtime","request_headers":{},"response_headers":{},"status":101}\n'
MSG0 = b'{"kind":"msg","conn":"a1","seq":0,"t":1763720100.1,"from":"server","size":27,"event":{"type":"session.created"}}\n'
MSG1 = (
    b'{"kind":"msg","conn":"a1","seq":1,"t":1763720100.2,"from":"client","size":5,"text":"hello"}\n'
)
CLOSE = b'{"kind":"close","conn":"a1","t":1763720101.0,"code":1000,"reason":"","by":"client"}\n'


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_reads_every_record_of_a_capture_and_keeps_the_header(tmp_path: Path) -> None:
    reader = CaptureReader(write(tmp_path, "c.jsonl", HEADER + OPEN + MSG0 + MSG1 + CLOSE))
    records = list(reader)
    assert [r["kind"] for r in records] == ["open", "msg", "msg", "close"]
    assert records[1]["event"] == {"type": "session.created"}
    assert records[2]["text"] == "hello"
    assert reader.header is not None and reader.header["version"] == 1
    assert reader.problems == []


def test_reads_a_gzip_capture_whatever_its_name(tmp_path: Path) -> None:
    data = gzip.compress(HEADER + OPEN + MSG0 + CLOSE)
    for name in ("c.jsonl.gz", "no-extension"):
        records = list(CaptureReader(write(tmp_path, name, data)))
        assert [r["kind"] for r in records] == ["open", "msg", "close"]


def test_reads_a_capture_without_header(tmp_path: Path) -> None:
    reader = CaptureReader(write(tmp_path, "c.jsonl", OPEN + MSG0))
    assert len(list(reader)) == 2
    assert reader.header is None


def test_ignores_unknown_fields_and_blank_lines(tmp_path: Path) -> None:
    extra = MSG0.replace(b'"size":27', b'"size":27,"future_field":{"x":1}')
    records = list(CaptureReader(write(tmp_path, "c.jsonl", HEADER + b"\n" + extra + b"  \n")))
    assert records[0]["event"]["type"] == "session.created"


def test_truncated_last_line_is_reported_and_everything_before_is_kept(tmp_path: Path) -> None:
    reader = CaptureReader(write(tmp_path, "c.jsonl", HEADER + OPEN + MSG0 + MSG1[:40]))
    records = list(reader)
    assert [r["kind"] for r in records] == ["open", "msg"]
    assert len(reader.problems) == 1
    assert "c.jsonl:4: last line is truncated" in str(reader.problems[0])


def test_garbage_line_in_the_middle_raises_naming_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", HEADER + OPEN + b"this is not json\n" + MSG0)
    with pytest.raises(CaptureError) as info:
        list(CaptureReader(path))
    assert str(info.value).startswith(f"{path}:3: not valid JSON")
    assert "\n" not in str(info.value)


def test_json_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r":2: expected a JSON object, found list"):
        list(CaptureReader(write(tmp_path, "c.jsonl", HEADER + b"[1,2]\n")))


def test_empty_file_gives_no_records_and_no_error(tmp_path: Path) -> None:
    reader = CaptureReader(write(tmp_path, "empty.jsonl", b""))
    assert list(reader) == []
    assert reader.lines == 0


def test_binary_file_is_refused_at_line_one(tmp_path: Path) -> None:
    path = write(tmp_path, "blob.bin", bytes(range(256)) * 4)
    with pytest.raises(CaptureError, match=r"blob.bin:1: binary data, not a capture"):
        list(CaptureReader(path))


def test_newer_version_is_refused_with_the_version_and_what_to_do(tmp_path: Path) -> None:
    header = HEADER.replace(b'"version":1', b'"version":2').replace(b"0.1.0", b"7.0.0")
    with pytest.raises(CaptureVersionError) as info:
        list(CaptureReader(write(tmp_path, "v2.jsonl", header + OPEN)))
    text = str(info.value)
    assert "v2.jsonl:1: capture format version 2 (written by rtscope 7.0.0)" in text
    assert "reads version 1" in text and "upgrade rtscope" in text


def test_a_header_of_another_format_is_refused(tmp_path: Path) -> None:
    header = HEADER.replace(b"rtscope.capture", b"other.thing")
    with pytest.raises(CaptureError, match="format 'other.thing'"):
        list(CaptureReader(write(tmp_path, "o.jsonl", header)))


def test_truncated_gzip_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    data = gzip.compress(HEADER + OPEN + MSG0 * 200)
    with pytest.raises(CaptureError, match="compressed data is damaged"):
        list(CaptureReader(write(tmp_path, "cut.jsonl.gz", data[: len(data) // 2])))


def test_msg_record_missing_direction_is_refused(tmp_path: Path) -> None:
    bad = MSG0.replace(b'"from":"server",', b"")
    with pytest.raises(CaptureError, match=r":2: 'msg' record whose 'from'"):
        list(CaptureReader(write(tmp_path, "c.jsonl", HEADER + bad)))


def test_bare_event_jsonl_infers_direction_from_type_and_time_from_t(tmp_path: Path) -> None:
    lines = [
        {"type": "session.created", "session": {}, "t": 10.5},
        {"type": "session.update", "session": {"modalities": ["text", "audio"]}, "t": 10.6},
        {"type": "response.create"},
        {"type": "response.created", "response": {"id": "resp_1"}},
    ]
    data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    reader = CaptureReader(write(tmp_path, "bare.jsonl", data))
    records = list(reader)
    assert [r["from"] for r in records] == ["server", "client", "client", "server"]
    assert [r["seq"] for r in records] == [0, 1, 2, 3]
    assert [r["t"] for r in records] == [10.5, 10.6, None, None]
    assert "t" not in records[0]["event"]
    assert reader.bare_events


def test_line_with_neither_kind_nor_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r":1: neither a capture record"):
        list(CaptureReader(write(tmp_path, "x.jsonl", b'{"hello":1}\n')))


def test_reads_from_a_binary_stream_such_as_stdin() -> None:
    reader = CaptureReader(io.BytesIO(HEADER + OPEN + MSG0), name="<stdin>")
    assert len(list(reader)) == 2
    assert reader.name == "<stdin>"


def test_reads_a_gzip_stream() -> None:
    reader = CaptureReader(io.BytesIO(gzip.compress(OPEN + MSG0)), name="-")
    assert len(list(reader)) == 2


def test_missing_file_and_directory_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="nope.jsonl: no such file"):
        list(CaptureReader(tmp_path / "nope.jsonl"))
    with pytest.raises(CaptureError, match="is a directory"):
        list(CaptureReader(tmp_path))


def test_streams_without_reading_the_whole_file(tmp_path: Path) -> None:
    # A reader that stopped after the first record must not have consumed the rest of the file.
    path = tmp_path / "big.jsonl"
    with CaptureWriter(path) as writer:
        writer.write(open_record("a1", 1.0, "ws://h/v1/realtime", {}, {}, 101))
        for seq in range(20_000):
            writer.write_line(dumps(message_record("a1", seq, 1.0, False, b'{"type":"x"}', True)))
    reader = CaptureReader(path)
    first = next(iter(reader))
    assert first["kind"] == "open"
    assert reader.lines < 100


def test_an_image_is_called_binary_not_bad_json(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    with pytest.raises(CaptureError, match=r"image.png:1: binary data, not a capture"):
        list(CaptureReader(write(tmp_path, "image.png", png)))
