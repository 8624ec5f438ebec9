"""HAR export, read back by mitmproxy's own HAR reader and by rtscope's importer."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from mitmproxy.io import FlowReader

from rtscope.capture.importers import HarSource
from rtscope.capture.sources import open_source
from rtscope.report.har import capture_to_har, write_har

FIXTURES = Path(__file__).parents[1] / "fixtures"

# HAR 1.2 required fields (http://www.softwareishard.com/blog/har-12-spec/), checked by hand.
ENTRY_KEYS = {"startedDateTime", "time", "request", "response", "cache", "timings"}
REQUEST_KEYS = {
    "method",
    "url",
    "httpVersion",
    "cookies",
    "headers",
    "queryString",
    "headersSize",
    "bodySize",
}
RESPONSE_KEYS = {
    "status",
    "statusText",
    "httpVersion",
    "cookies",
    "headers",
    "content",
    "redirectURL",
    "headersSize",
    "bodySize",
}


def payloads(records: list[dict]) -> list[tuple]:
    """What a message carried, independent of how it was stored."""
    out = []
    for r in records:
        if r["kind"] != "msg":
            continue
        body = r.get("event", r.get("text", r.get("data_b64")))
        out.append(
            (r["conn"], r["seq"], r["from"], body, round(r["t"], 6) if r["t"] is not None else None)
        )
    return out


@pytest.mark.parametrize("fixture", ["har/session.mitm", "har/chrome.har", "har/httptoolkit.har"])
def test_round_trip_keeps_every_message_in_order(tmp_path: Path, fixture: str) -> None:
    original = list(open_source(FIXTURES / fixture))
    path = tmp_path / "out.har"
    summary = write_har(original, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back_source = open_source(path)
    assert isinstance(back_source, HarSource)
    back = list(back_source)
    conns = {r["conn"] for r in original}
    renumber = {
        conn: str(i) for i, conn in enumerate(dict.fromkeys(r["conn"] for r in original), 1)
    }
    expected = [(renumber[c], *rest) for c, *rest in payloads(original)]
    assert payloads(back) == expected
    assert summary.entries == len(conns) and summary.messages == len(expected)
    closes = [(r["code"], r["reason"]) for r in original if r["kind"] == "close"]
    assert [(r["code"], r["reason"]) for r in back if r["kind"] == "close"] == closes


def test_mitmproxys_har_reader_reads_the_export(tmp_path: Path) -> None:
    path = tmp_path / "out.har"
    write_har(open_source(FIXTURES / "har" / "session.mitm"), path)
    with open(path, "rb") as handle:
        flows = list(FlowReader(handle).stream())
    [flow] = flows
    assert flow.request.method == "GET"
    assert flow.request.scheme == "wss" and flow.request.host == "api.openai.com"
    assert flow.request.path == "/v1/realtime?model=gpt-realtime"
    assert flow.request.headers["authorization"] == "[REDACTED]"
    assert flow.response.status_code == 101
    assert flow.response.reason == "Switching Protocols"


def test_entries_have_the_har_and_chrome_websocket_fields() -> None:
    doc, _ = capture_to_har(open_source(FIXTURES / "har" / "chrome.har"))
    assert doc["log"]["version"] == "1.2" and doc["log"]["creator"]["name"] == "rtscope"
    # Chrome's HAR importer (devtools-frontend models/har/Importer.ts) iterates log.pages and
    # keeps frames whose type is send/receive/error with time, opcode and data all present.
    assert doc["log"]["pages"] == []
    [entry] = doc["log"]["entries"]
    assert ENTRY_KEYS <= entry.keys()
    assert REQUEST_KEYS <= entry["request"].keys()
    assert RESPONSE_KEYS <= entry["response"].keys()
    assert entry["_resourceType"] == "websocket"
    assert entry["startedDateTime"] == "2025-11-21T04:40:00.000Z"
    messages = entry["_webSocketMessages"]
    assert all(set(m) == {"type", "time", "opcode", "data"} for m in messages)
    assert {m["type"] for m in messages} == {"send", "receive"}
    assert [m["opcode"] for m in messages] == [1, 1, 1, 1, 2, 1]
    assert messages[4]["data"] == "AAEC/w=="
    # the browser's error frame became close 1006; HTTP Toolkit's extension carries it
    assert entry["_webSocketClose"] == {
        "code": 1006,
        "reason": "net::ERR_CONNECTION_CLOSED",
        "timestamp": 1763700001.2,
    }


def test_pasted_log_export_has_a_placeholder_url_and_keeps_order(tmp_path: Path) -> None:
    source = open_source(FIXTURES / "seeds" / "000_modality-switch-text-only.txt")
    out = io.BytesIO()
    summary = write_har(source, out)
    doc = json.loads(out.getvalue())
    [entry] = doc["log"]["entries"]
    assert entry["request"]["url"] == "ws://rtscope.invalid/0"
    assert "no handshake" in entry["comment"] and "16 message(s) had no time" in entry["comment"]
    assert summary.untimed == 16
    assert [json.loads(m["data"])["type"] for m in entry["_webSocketMessages"]][:2] == [
        "session.created",
        "conversation.item.created",
    ]


def test_untimed_messages_take_the_base_time() -> None:
    records = [
        {
            "kind": "msg",
            "conn": "0",
            "seq": 0,
            "t": None,
            "from": "client",
            "event": {"type": "response.create"},
        },
    ]
    doc, summary = capture_to_har(records, base_time=1763700000.0)
    [entry] = doc["log"]["entries"]
    assert entry["startedDateTime"] == "2025-11-21T04:40:00.000Z"
    assert entry["_webSocketMessages"][0]["time"] == 1763700000.0
    assert summary.untimed == 1


# --- HTTP Toolkit validates imported HAR with the npm package har-validator (its har.ts):
# run the same validator on our exports. Installed once into tests/.node/har (git-ignored).

NODE_DIR = Path(__file__).parents[1] / ".node" / "har"
VALIDATE = """
const v = require('har-validator');
const files = process.argv.slice(2);
Promise.all(files.map(f => v.har(JSON.parse(require('fs').readFileSync(f, 'utf8')))
  .then(() => f + ' valid').catch(e => f + ' INVALID ' + JSON.stringify(e.errors))))
  .then(lines => console.log(lines.join('\\n')));
"""


@pytest.fixture(scope="module")
def har_validator() -> Path:
    import shutil
    import subprocess

    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm not installed: cannot run HTTP Toolkit's HAR validator")
    if not (NODE_DIR / "node_modules" / "har-validator").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NODE_DIR),
                "har-validator@5.1.5",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            pytest.skip(f"npm could not install har-validator: {done.stderr.strip()[:200]}")
    script = NODE_DIR / "validate.js"
    script.write_text(VALIDATE)
    return script


@pytest.mark.parametrize(
    "fixture",
    [
        "har/session.mitm",
        "har/chrome.har",
        "seeds/002_item-before-session-created-yaml-log.txt",
        "seeds/000_modality-switch-text-only.txt",
    ],
)
def test_exports_pass_http_toolkits_har_validator(
    tmp_path: Path, har_validator: Path, fixture: str
) -> None:
    import subprocess

    out = tmp_path / "out.har"
    source = open_source(FIXTURES / fixture)
    write_har(source, out)
    done = subprocess.run(
        ["node", str(har_validator), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=NODE_DIR,
    )
    assert done.stdout.strip() == f"{out} valid", done.stdout + done.stderr
