"""open_source: the input kind is sniffed from content (not the name), for files and stdin."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from rtscope.capture.importers import FlowSource, HarSource
from rtscope.capture.reader import CaptureReader
from rtscope.capture.sources import open_source, sniff
from rtscope.errors import CaptureError

FIXTURES = Path(__file__).parents[1] / "fixtures"
CAPTURE = (
    b'{"kind":"header","format":"rtscope.capture","version":1,'
    b'"created":"2026-11-21T10:15:00Z","tool":"rtscope 0.1.0"}\n'
    b'{"kind":"msg","conn":"a1","seq":0,"t":1.5,"from":"server","size":27,"event":{"type":"session.created"}}\n'
)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("har/chrome.har", "har"),
        ("har/mitmproxy.har", "har"),
        ("har/session.mitm", "flows"),
        ("seeds/000_modality-switch-text-only.txt", "pasted"),
        ("seeds/002_item-before-session-created-yaml-log.txt", "pasted"),
        ("logs/jsonl-with-noise.md", "pasted"),
    ],
)
def test_sniff_recognises_each_fixture(path: str, kind: str) -> None:
    assert sniff((FIXTURES / path).read_bytes()[:65536]) == kind


def test_sniff_tells_captures_and_bare_jsonl_from_pasted_json() -> None:
    assert sniff(CAPTURE) == "capture"
    assert sniff(b'{"type":"session.update"}\n{"type":"response.create"}\n') == "capture"
    assert sniff(b'{\n  "type": "session.update"\n}\n') == "pasted"  # pretty-printed
    assert sniff(b'[{"type":"response.create"}]') == "pasted"
    assert sniff(b'\xef\xbb\xbf{"log": {"entries": []}}') == "har"
    assert sniff(gzip.compress(CAPTURE)) == "capture"
    assert sniff(gzip.compress(b"Sent: {'type': 'response.create'}")) == "pasted"


def test_files_open_with_the_right_reader_whatever_their_name(tmp_path: Path) -> None:
    renamed = tmp_path / "session.jsonl"
    renamed.write_bytes((FIXTURES / "har" / "chrome.har").read_bytes())
    assert isinstance(open_source(renamed), HarSource)
    log = tmp_path / "capture.har"
    log.write_bytes(CAPTURE)
    reader = open_source(log)
    assert isinstance(reader, CaptureReader)
    assert [r["kind"] for r in reader] == ["msg"] and reader.header is not None
    assert isinstance(open_source(FIXTURES / "har" / "session.mitm"), FlowSource)


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("seeds/001_no-response-after-response-create.txt", 8),
        ("har/chrome.har", 8),
        ("har/session.mitm", 13),
    ],
)
def test_stdin_streams_work_for_every_kind(path: str, count: int) -> None:
    stream = io.BufferedReader(io.BytesIO((FIXTURES / path).read_bytes()))
    source = open_source(stream, "<stdin>")
    assert source.name == "<stdin>"
    assert len(list(source)) == count


def test_stdin_capture_longer_than_the_sniffed_head_is_read_whole() -> None:
    line = b'{"type":"input_audio_buffer.append","audio":"' + b"A" * 40000 + b'"}\n'
    stream = io.BytesIO(line * 10)
    source = open_source(stream, "<stdin>")
    assert isinstance(source, CaptureReader)
    assert len(list(source)) == 10


def test_gzipped_pasted_log_and_har(tmp_path: Path) -> None:
    log = tmp_path / "post.txt.gz"
    log.write_bytes(
        gzip.compress((FIXTURES / "seeds" / "004_text-history-drops-audio.txt").read_bytes())
    )
    assert len(list(open_source(log))) == 6
    har = tmp_path / "x.har.gz"
    har.write_bytes(gzip.compress((FIXTURES / "har" / "chrome.har").read_bytes()))
    assert len(list(open_source(har))) == 8


def test_missing_file_and_directory_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file"):
        open_source(tmp_path / "missing.har")
    with pytest.raises(CaptureError, match="is a directory"):
        open_source(tmp_path)


def test_imported_sources_say_what_they_came_from() -> None:
    source = open_source(FIXTURES / "har" / "chrome.har")
    assert source.header is not None
    assert source.header["imported_from"] == "har"
    assert source.header["format"] == "rtscope.capture"


def test_utf16_text_from_powershell_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    text = (FIXTURES / "seeds" / "001_no-response-after-response-create.txt").read_text()
    path.write_bytes(text.encode("utf-16"))
    source = open_source(path)
    assert len(list(source)) == 8
    assert source.header is not None and source.header["times"] == "none"


def test_json_lines_with_a_garbage_line_stay_a_capture_so_the_error_is_reported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"type":"session.created"}\n{oops\n')
    source = open_source(path)
    assert isinstance(source, CaptureReader)
    with pytest.raises(CaptureError) as info:
        list(source)
    assert info.value.line == 2 and "not valid JSON" in info.value.problem
    assert sniff(CAPTURE + b"a note someone typed\n") == "capture"  # a header: always a capture
    assert (
        sniff(b'{"type":"session.created"}\nthen I sent:\n{"type":"response.create"}\n') == "pasted"
    )
