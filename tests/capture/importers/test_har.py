"""HAR import: Chrome, mitmproxy (written by mitmproxy itself), HTTP Toolkit and Playwright shapes.

Expected values come from reading the fixtures (tests/fixtures/har/README.md says where each shape
comes from) and, for mitmproxy.har, from mitmproxy's own objects in make_mitmproxy_fixtures.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtscope.capture.importers import HarSource
from rtscope.capture.sources import open_source
from rtscope.errors import CaptureError

HAR = Path(__file__).parents[2] / "fixtures" / "har"
T0 = 1763700000.0


def read(name: str) -> tuple[list[dict], HarSource]:
    source = open_source(HAR / name)
    assert isinstance(source, HarSource)
    return list(source), source


def test_chrome_websocket_entry_becomes_one_connection() -> None:
    records, source = read("chrome.har")
    kinds = [r["kind"] for r in records]
    assert kinds == ["open"] + ["msg"] * 6 + ["close"]  # the document entry is not a connection
    opened = records[0]
    assert opened["conn"] == "1" and opened["har_entry"] == 2
    assert opened["url"] == "wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview"
    assert opened["status"] == 101
    assert opened["t"] == 1763700000.0  # startedDateTime 2025-11-21T04:40:00.000Z
    protocol = opened["request_headers"]["sec-websocket-protocol"]
    assert "sk-test" not in protocol and "openai-insecure-api-key.[REDACTED]" in protocol
    msgs = records[1:7]
    assert [(m["seq"], m["from"]) for m in msgs] == [
        (0, "server"),
        (1, "client"),
        (2, "server"),
        (3, "client"),
        (4, "client"),
        (5, "server"),
    ]
    assert [m["t"] for m in msgs] == pytest.approx(
        [T0 + 0.30, T0 + 0.41, T0 + 0.52, T0 + 0.60, T0 + 0.61, T0 + 0.90]
    )
    assert msgs[0]["event"]["session"]["input_audio_format"] == "g711_ulaw"
    assert msgs[1]["event"]["session"]["client_secret"] == {"value": "[REDACTED]"}
    assert msgs[3]["event"] == {"type": "input_audio_buffer.append", "audio": "//////////8="}
    assert msgs[4]["data_b64"] == "AAEC/w==" and msgs[4]["size"] == 4
    assert msgs[5]["text"] == "not json at all"
    assert records[-1]["code"] == 1006 and records[-1]["reason"] == "net::ERR_CONNECTION_CLOSED"
    assert source.problems == []


def test_mitmproxy_savehar_entry() -> None:
    records, source = read("mitmproxy.har")
    assert [r["kind"] for r in records] == ["open"] + ["msg"] * 11  # savehar writes no close
    opened = records[0]
    assert opened["url"] == "wss://api.openai.com/v1/realtime?model=gpt-realtime"  # was https://
    assert opened["request_headers"]["authorization"] == "[REDACTED]"
    assert opened["response_headers"]["openai-organization"].startswith("[ID ")
    original = json.loads((HAR / "mitmproxy.har").read_text())["log"]["entries"][1][
        "_webSocketMessages"
    ]
    for record, message in zip(records[1:11], original[:10], strict=True):
        assert record["event"] == json.loads(message["data"])
        assert record["t"] == pytest.approx(message["time"], abs=1e-6)  # µs in captures
        assert record["from"] == ("client" if message["type"] == "send" else "server")
    assert records[11]["data_b64"] == original[10]["data"]
    assert source.problems == []


def test_http_toolkit_close_and_aborted_connections() -> None:
    records, _ = read("httptoolkit.har")
    closes = [r for r in records if r["kind"] == "close"]
    assert [(c["conn"], c["code"], c["reason"], c["t"]) for c in closes] == [
        ("1", 1000, "done", T0 + 2.0),
        ("2", 1006, "", pytest.approx(T0 + 60.3)),
    ]
    first = [r for r in records if r["conn"] == "1"]
    assert first[0]["request_headers"]["authorization"] == "[REDACTED]"
    assert [r["event"]["type"] for r in first if r["kind"] == "msg"] == [
        "session.created",
        "response.create",
        "response.created",
        "response.output_audio.delta",
        "response.done",
    ]


def test_playwright_embedded_messages_and_an_attached_entry_reported() -> None:
    records, source = read("playwright.har")
    assert [(r["kind"], r["conn"]) for r in records] == [
        ("open", "1"),
        ("msg", "1"),
        ("msg", "1"),
        ("msg", "1"),
        ("open", "2"),
    ]
    assert "ek_" not in json.dumps(records)
    assert len(source.problems) == 1
    assert source.problems[0].problem.startswith(
        "entry 2: WebSocket entry without '_webSocketMessages'"
    )


def test_har_without_websocket_entries_is_refused() -> None:
    with pytest.raises(CaptureError) as info:
        list(open_source(HAR / "no-websocket.har"))
    assert "no WebSocket entries (the HAR has 1 HTTP entries)" in str(info.value)


def test_truncated_har_names_the_line(tmp_path: Path) -> None:
    text = (HAR / "chrome.har").read_text()
    path = tmp_path / "cut.har"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CaptureError) as info:
        list(open_source(path))
    error = info.value
    assert error.line is not None and error.line > 10
    assert "not valid JSON" in error.problem


def test_odd_messages_are_reported_and_skipped(tmp_path: Path) -> None:
    doc = {
        "log": {
            "entries": [
                {
                    "_resourceType": "websocket",
                    "startedDateTime": "2025-11-21T04:40:00Z",
                    "request": {"url": "ws://127.0.0.1:9/v1/realtime", "headers": []},
                    "response": {"status": 101, "headers": []},
                    "_webSocketMessages": [
                        {
                            "type": "send",
                            "time": 1763700000500,
                            "opcode": 1,
                            "data": '{"type":"response.create"}',
                        },
                        {"type": "send", "time": T0 + 1, "opcode": 2, "data": "%%% not base64"},
                        {"type": "receive", "time": T0 + 2, "opcode": 9, "data": ""},
                        {"type": "sideways", "time": T0 + 3, "opcode": 1, "data": "x"},
                        {"type": "receive", "time": T0 + 4, "opcode": 8, "data": "", "code": 1000},
                    ],
                }
            ]
        }
    }
    path = tmp_path / "odd.har"
    path.write_text(json.dumps(doc))
    source = open_source(path)
    records = list(source)
    assert [r["kind"] for r in records] == ["open", "msg", "close"]
    assert records[1]["t"] == pytest.approx(T0 + 0.5)  # milliseconds read as such
    assert (records[2]["code"], records[2]["by"]) == (1000, "server")
    assert [p.problem.split(":")[0] for p in source.problems] == [
        "entry 1, message 2",
        "entry 1, message 4",
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["send", "receive", "error", "x"]) | JSON,
        "time": st.floats(allow_nan=False) | JSON,
        "opcode": st.sampled_from([1, 2, 8, 9, -1, 7]) | JSON,
        "data": st.text(max_size=30) | JSON,
        "code": JSON,
    },
)
ENTRY = st.fixed_dictionaries(
    {"_resourceType": st.just("websocket")},
    optional={
        "request": JSON,
        "response": JSON,
        "startedDateTime": st.text(max_size=30) | JSON,
        "_webSocketMessages": st.lists(MESSAGE | JSON, max_size=6) | JSON,
        "_webSocketClose": JSON | st.just("aborted"),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ENTRY | JSON, max_size=4))
def test_any_har_entries_give_records_or_capture_error(entries: list) -> None:
    source = HarSource(io.BytesIO(json.dumps({"log": {"entries": entries}}).encode()), "h.har")
    try:
        for record in source:
            assert record["kind"] in ("open", "msg", "close")
    except CaptureError:
        pass
