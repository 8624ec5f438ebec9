"""Secrets matrix: every way a secret travels, recorded through the real recorder, then every
output rtscope writes is searched for each secret (and its first 12 characters).

The recording: :class:`rtscope.proxy.RecordProxy` in process, in front of the scripted Realtime
server of ``tests/proxy`` on 127.0.0.1, with real clients (the ``openai`` SDK and ``websockets``)
sending one secret per way it can travel. Then the real CLI, in subprocesses, produces every
output: ``import`` (all captures into one), ``export --har``, ``export --wav`` (its listing and the
WAV files), ``report`` (HTML), ``show``, ``analyze`` (text and JSON), ``replay`` (output and the
new capture) against the simulator, ``diff``, and the recorder's own stdout/stderr and log lines.
The server really received each secret (checked), so a clean output is redaction, not absence.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from openai import AsyncOpenAI

from rtscope.proxy.master import RecordConfig, RecordProxy
from rtscope.pytest_plugin import ServerThread
from rtscope.replay.sim import SimOptions, simulator_factory
from tests.proxy.realtime_server import RealtimeServer

#: One distinct secret per way a secret travels (realistic shapes: the redaction rules look at
#: shapes and names, so a toy value would prove less).
SECRETS: dict[str, str] = {
    "bearer-sk": "sk-AAAAbearer0123456789abcdefghijklmnopqrstuv",
    "bearer-sk-proj": "sk-proj-BBBBproject_0123456789-abcdefghijklmnopqrst",
    "bearer-ek": "ek_CCCCephemeral0123456789abcdefghij",
    "bearer-jwt": (
        "eyJ0eXAiOiJKV1QiLCJraWQiOiJydHNjb3BlLXRlc3QifQ"
        ".eyJzdWIiOiJERERELWp3dC1zdWJqZWN0In0.DDDDsignature_0123456789-abcdefXYZ"
    ),
    "azure-api-key-header": "EEEE0123456789abcdef0123456789ab",
    "query-api-key": "FFFFqueryApiKeyDash0123456789",
    "query-api_key": "GGGGqueryApiKeyUnderscore0123",
    "query-key": "HHHHqueryKey0123456789abcdef",
    "query-token": "IIIIqueryToken0123456789abcd",
    "query-access_token": "JJJJqueryAccessToken01234567",
    "subprotocol-key": "sk-KKKKsubprotocol0123456789abcdefghijklmn",
    "event-client_secret": "ek_LLLLclientSecretValue0123456789",
    "event-ek-in-text": "ek_MMMMinsideInstructions0123456789",
    "event-sk-in-item": "sk-proj-NNNNinsideAnItem0123456789abcdefgh",
    "text-frame-ek": "ek_OOOOinANonJsonTextFrame0123456",
    "binary-frame-sk": "sk-PPPPinABinaryFrame0123456789abcdefghij",
    "invalid-utf8-frame-sk": "sk-QQQQinAnInvalidUtf8Frame0123456789abcd",
    "cookie": "RRRRcookieSessionValue0123456789",
    "refused-bearer": "sk-SSSSrefusedHandshake0123456789abcdefgh",
    # What the scripted server echoes in its 401 body, as OpenAI's does with a key it refuses.
    "upstream-error-body": "sk-test-leak-0123456789abcdef",
}


def needles(secret: str) -> list[bytes]:
    """The secret and its first 12 characters."""
    return [secret.encode(), secret[:12].encode()]


async def _sdk_session(port: int) -> None:
    """The openai SDK (GA): Bearer sk-…, a client_secret and ek_/sk- strings inside events."""
    client = AsyncOpenAI(
        api_key=SECRETS["bearer-sk"], websocket_base_url=f"ws://127.0.0.1:{port}/v1"
    )
    async with client.realtime.connect(model="gpt-realtime") as connection:
        await connection.send(
            {  # type: ignore[arg-type]  # client_secret is not a session.update field: on purpose
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "instructions": f"use {SECRETS['event-ek-in-text']} for tools",
                    "client_secret": {"value": SECRETS["event-client_secret"]},
                },
            }
        )
        await connection.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": f"my key: {SECRETS['event-sk-in-item']}"}
                    ],
                },
            }
        )
        await connection.send({"type": "response.create"})
        async for event in connection:
            if event.type == "response.done":
                break
    await client.close()


async def _ws(port: int, path: str, **kwargs: Any) -> websockets.ClientConnection:
    return await websockets.connect(f"ws://127.0.0.1:{port}{path}", **kwargs)


async def _clients(port: int) -> None:
    await _sdk_session(port)
    # Bearer sk-proj-… and a cookie (beta dialect), with a non-JSON text and a binary frame.
    ws = await _ws(
        port,
        "/v1/realtime?model=gpt-realtime",
        additional_headers={
            "Authorization": f"Bearer {SECRETS['bearer-sk-proj']}",
            "OpenAI-Beta": "realtime=v1",
            "Cookie": f"__cf_bm=x; session={SECRETS['cookie']}",
        },
    )
    await ws.recv()
    await ws.recv()
    await ws.send(f"echo:token {SECRETS['text-frame-ek']}")
    await ws.recv()
    await ws.send(b"\x00\x01binary " + SECRETS["binary-frame-sk"].encode())
    await ws.recv()
    await ws.close()
    for name in ("bearer-ek", "bearer-jwt"):
        ws = await _ws(
            port,
            "/v1/realtime?model=gpt-realtime",
            additional_headers={"Authorization": f"Bearer {SECRETS[name]}"},
        )
        await ws.recv()
        await ws.send(orjson.dumps({"type": "session.update", "session": {}}).decode())
        await ws.recv()
        await ws.close()
    # Azure: api-key header and every secret query parameter.
    query = "&".join(
        f"{key}={SECRETS['query-' + key]}" for key in ("api-key", "api_key", "key", "token")
    )
    ws = await _ws(
        port,
        f"/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-realtime&{query}"
        f"&access_token={SECRETS['query-access_token']}",
        additional_headers={"api-key": SECRETS["azure-api-key-header"]},
    )
    await ws.recv()
    await ws.close()
    # Browser-style: the key as a subprotocol.
    ws = await _ws(
        port,
        "/v1/realtime?model=gpt-realtime",
        subprotocols=[  # type: ignore[list-item]
            "realtime",
            f"openai-insecure-api-key.{SECRETS['subprotocol-key']}",
            "openai-beta.realtime-v1",
        ],
    )
    await ws.recv()
    await ws.close()
    # A refused handshake whose body echoes a key.
    with pytest.raises(websockets.InvalidStatus):
        await _ws(
            port,
            "/v1/realtime?model=refuse-401",
            additional_headers={"Authorization": f"Bearer {SECRETS['refused-bearer']}"},
        )
    # A text frame that is not UTF-8: mitmproxy (wsproto) fails the connection with 1007 before
    # the recorder sees the frame, so neither the server nor the capture gets it; the frame's
    # secret must not surface in an error line either.
    ws = await _ws(port, "/v1/realtime?model=gpt-realtime")
    await ws.recv()
    await ws.send(b"echo:\xff " + SECRETS["invalid-utf8-frame-sk"].encode(), text=True)
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)


class _Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The recorder's lines (rtscope, mitmproxy), not the test's own clients and server
        # (websockets logs handshakes at DEBUG on both ends).
        if record.name.split(".")[0] in ("rtscope", "mitmproxy"):
            self.lines.append(f"{record.name}: {self.format(record)}")


async def _record(out_dir: Path, confdir: Path, writer: str) -> tuple[str, RealtimeServer]:
    out, err, logs = io.StringIO(), io.StringIO(), _Logs()
    root = logging.getLogger()
    root.addHandler(logs)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        async with RealtimeServer() as server:
            proxy = RecordProxy(
                RecordConfig(
                    upstream=server.url,
                    listen_port=0,
                    out=out_dir,
                    confdir=str(confdir),
                    live=True,
                    writer=writer,  # type: ignore[arg-type]
                ),
                out=out,
                err=err,
            )
            _, port = await proxy.start()
            try:
                await _clients(port)
                for conn in server.connections:
                    await asyncio.wait_for(conn.closed.wait(), 5)
                await asyncio.sleep(0.3)
                await proxy.recorder.drain()
            finally:
                await proxy.stop()
    finally:
        root.removeHandler(logs)
        root.setLevel(old_level)
    return out.getvalue() + err.getvalue() + "\n".join(logs.lines), server


def rtscope(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args],
        capture_output=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _decoded_payloads(data: bytes) -> bytes:
    """The base64 payloads (binary frames, invalid UTF-8 text) of capture lines, decoded."""
    out = []
    for line in data.splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("data_b64"), str):
            out.append(base64.b64decode(record["data_b64"]))
    return b"\n".join(out)


def _har_payloads(data: bytes) -> bytes:
    """The base64 (binary) WebSocket message payloads of a HAR file, decoded."""
    out = []
    for entry in orjson.loads(data)["log"]["entries"]:
        for message in entry.get("_webSocketMessages", []):
            if message.get("opcode") == 2:
                out.append(base64.b64decode(message["data"]))
    return b"\n".join(out)


def _files(directory: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


@pytest.fixture(scope="module", params=["inline", "process"])
def outputs(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, bytes]]:
    """Every artifact rtscope produced from the recorded secrets, by name (recorded by the
    proxy's hooks, and by its writer process)."""
    root = tmp_path_factory.mktemp("secrets")
    captures = root / "captures"
    conf = tmp_path_factory.mktemp("conf")
    recorder_lines, server = asyncio.run(_record(captures, conf, str(request.param)))
    # The server saw every handshake secret: the proxy forwarded them untouched.
    seen = "\n".join(
        "\n".join(f"{k}: {v}" for k, v in c.headers.items())
        + c.path
        + "\n".join(m if isinstance(m, str) else m.decode("latin-1") for m in c.received)
        for c in server.connections
    )
    missing = [
        n
        for n in SECRETS
        if SECRETS[n] not in seen
        and n not in ("upstream-error-body", "refused-bearer", "invalid-utf8-frame-sk")
    ]
    assert missing == [], missing
    files = sorted(captures.glob("*.jsonl"))
    assert len(files) == 8, files
    sdk_capture = next(f for f in files if b"response.done" in f.read_bytes())

    art: dict[str, bytes] = {}
    raw = _files(captures)
    art["captures"] = raw
    art["captures (base64 payloads decoded)"] = _decoded_payloads(raw)
    art["recorder stdout/stderr/logs"] = recorder_lines.encode()

    merged = root / "all.jsonl"
    done = rtscope("import", *map(str, files), "-o", str(merged))
    assert done.returncode == 0, done.stderr
    art["import output"] = merged.read_bytes() + done.stdout + done.stderr
    har = root / "all.har"
    done = rtscope("export", str(merged), "--har", str(har))
    assert done.returncode == 0, done.stderr
    art["export --har"] = har.read_bytes() + done.stdout + done.stderr
    art["export --har (binary payloads decoded)"] = _har_payloads(har.read_bytes())
    wav = root / "wav"
    done = rtscope("export", str(merged), "--wav", str(wav))
    assert done.returncode == 0, done.stderr
    assert list(wav.glob("*.wav")), done.stdout
    art["export --wav listing"] = done.stdout + done.stderr
    art["export --wav files"] = _files(wav)
    html = root / "report.html"
    done = rtscope("report", str(captures), "-o", str(html))
    assert done.returncode == 0, done.stderr
    art["report html"] = html.read_bytes() + done.stdout + done.stderr
    done = rtscope("show", str(merged), "--no-color")
    assert done.returncode == 0, done.stderr
    art["show"] = done.stdout + done.stderr
    for fmt in ("text", "json"):
        done = rtscope("analyze", str(captures), "--format", fmt, "--fail-on", "never")
        assert done.returncode == 0, done.stderr
        art[f"analyze {fmt}"] = done.stdout + done.stderr

    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    simulator = ServerThread(simulator_factory(SimOptions()))
    endpoint = simulator.start()
    try:
        replays = root / "replays"
        done = rtscope(
            "replay", str(sdk_capture), "--target", endpoint.url, "--timing", "asap",
            "--out", str(replays), env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        art["replay output"] = done.stdout + done.stderr
        art["replay captures"] = _files(replays)
        done = rtscope("diff", str(sdk_capture), str(next(replays.rglob("*.jsonl"))))
        assert done.returncode in (0, 1), done.stderr
        art["diff"] = done.stdout + done.stderr
        # An error message about a damaged capture whose lines hold (redacted) secrets.
        damaged = root / "damaged.jsonl"
        damaged.write_bytes(raw[: len(raw) // 2] + b"\n{not json\n" + raw[len(raw) // 2 :])
        done = rtscope("analyze", str(damaged))
        assert done.returncode == 2
        art["error message"] = done.stdout + done.stderr
    finally:
        simulator.stop()
    yield art


ARTIFACTS = [
    "captures",
    "captures (base64 payloads decoded)",
    "recorder stdout/stderr/logs",
    "import output",
    "export --har",
    "export --har (binary payloads decoded)",
    "export --wav listing",
    "export --wav files",
    "report html",
    "show",
    "analyze text",
    "analyze json",
    "replay output",
    "replay captures",
    "diff",
    "error message",
]


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_no_secret_appears_in_any_output(artifact: str, outputs: dict[str, bytes]) -> None:
    data = outputs[artifact]
    assert data, f"{artifact} is empty: the test would prove nothing"
    leaked = [name for name, secret in SECRETS.items() if any(n in data for n in needles(secret))]
    assert leaked == [], f"{artifact} holds {leaked}"


def test_the_outputs_still_show_where_each_secret_was(outputs: dict[str, bytes]) -> None:
    """Redaction replaces secrets by a marker; it does not drop the headers or events."""
    capture = outputs["captures"]
    assert capture.count(b"[REDACTED]") >= 15
    assert b'"authorization":"[REDACTED]"' in capture
    assert b"openai-insecure-api-key.[REDACTED]" in capture
    assert b"response.done" in outputs["captures"]


def test_an_invalid_utf8_text_payload_is_redacted_like_a_binary_one() -> None:
    """Writers other than the proxy (importers, replay) may hand the codec such a payload."""
    from rtscope.capture.codec import message_record

    secret = SECRETS["invalid-utf8-frame-sk"]
    for is_text in (False, True):
        record = message_record("c", 0, 1.0, True, b"\xff\xfe " + secret.encode(), is_text)
        stored = base64.b64decode(record["data_b64"])
        assert secret[:12].encode() not in stored, is_text
        assert stored.startswith(b"\xff\xfe [REDACTED]")
