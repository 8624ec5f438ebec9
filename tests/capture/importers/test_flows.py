"""mitmproxy flow files, read through mitmproxy's FlowReader; checked against mitmproxy itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mitmproxy.io import FlowReader, FlowWriter
from mitmproxy.test import tflow

from rtscope.capture.importers import FlowSource
from rtscope.capture.sources import open_source
from rtscope.errors import CaptureError

HAR = Path(__file__).parents[2] / "fixtures" / "har"


def mitmproxy_flows(path: Path) -> list:
    with open(path, "rb") as handle:
        return list(FlowReader(handle).stream())


def test_flow_file_gives_every_message_as_mitmproxy_read_it() -> None:
    source = open_source(HAR / "session.mitm")
    assert isinstance(source, FlowSource)
    records = list(source)
    ws = [f for f in mitmproxy_flows(HAR / "session.mitm") if f.websocket][0]
    assert [r["kind"] for r in records] == ["open"] + ["msg"] * len(ws.websocket.messages) + [
        "close"
    ]
    assert records[0]["url"] == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert records[0]["request_headers"]["authorization"] == "[REDACTED]"
    assert records[0]["status"] == 101
    for record, message in zip(records[1:-1], ws.websocket.messages, strict=True):
        assert record["t"] == pytest.approx(message.timestamp, abs=1e-6)  # µs in captures
        assert record["from"] == ("client" if message.from_client else "server")
        if message.is_text:
            assert record["event"] == json.loads(message.content)
        else:
            assert record["data_b64"] and record["size"] == len(message.content)
    close = records[-1]
    assert (close["code"], close["reason"], close["by"], close["t"]) == (
        1000,
        "bye",
        "client",
        ws.websocket.timestamp_end,
    )
    assert {r["conn"] for r in records} == {ws.id}


def test_flow_file_without_websocket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.mitm"
    with open(path, "wb") as handle:
        FlowWriter(handle).add(tflow.tflow(resp=True))
    with pytest.raises(CaptureError) as info:
        list(open_source(path))
    assert "no WebSocket flows (the file has 1 flows)" in str(info.value)


def test_truncated_flow_file_names_the_flow(tmp_path: Path) -> None:
    data = (HAR / "session.mitm").read_bytes()
    path = tmp_path / "cut.mitm"
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(CaptureError) as info:
        list(open_source(path))
    assert info.value.problem.startswith("flow 2: cannot read")


def test_reading_a_plain_capture_does_not_import_mitmproxy(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"type":"session.created"}\n')
    code = (
        "import sys\n"
        "from rtscope.capture.sources import open_source\n"
        f"records = list(open_source({str(path)!r}))\n"
        "assert len(records) == 1\n"
        "print('mitmproxy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
