"""The recorder addon end to end: real openai SDK client → rtscope's proxy → scripted server."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from openai import AsyncOpenAI

from rtscope.capture.reader import CaptureReader

from .conftest import API_KEY, WRITERS, StartProxy, only_capture, read_lines, records
from .realtime_server import Payload, RealtimeServer


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest) -> str:
    """Every test here runs with inline recording and with the writer process."""
    return str(request.param)


def _bytes(payload: Payload) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def assert_capture_matches(path: Path, server: RealtimeServer) -> list[dict[str, Any]]:
    """Every message both ways, in the server's order, each payload exactly as sent."""
    lines = read_lines(path)
    recs = [orjson.loads(line) for line in lines]
    msgs = [(line, rec) for line, rec in zip(lines, recs, strict=True) if rec["kind"] == "msg"]
    (conn,) = server.connections
    # The server sees each direction in order; the proxy sees them in order per direction too.
    for direction in ("client", "server"):
        expected = [p for d, p in conn.order if d == direction]
        got = [(line, rec) for line, rec in msgs if rec["from"] == direction]
        assert len(got) == len(expected), direction
        for (line, rec), payload in zip(got, expected, strict=True):
            raw = _bytes(payload)
            assert rec["size"] == len(raw)
            if "event" in rec:
                assert raw in line  # embedded verbatim
            elif "text" in rec:
                assert rec["text"] == payload
            else:
                assert base64.b64decode(rec["data_b64"]) == raw
    assert [r["seq"] for _, r in msgs] == list(range(len(msgs)))
    return recs


async def _session(client: Any, connect: Any) -> None:
    async with connect(model="gpt-realtime") as connection:
        first = await connection.recv()
        assert first.type == "session.created"
        await connection.send(
            {"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}
        )
        while (await connection.recv()).type != "session.updated":
            pass
        await connection.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Say hello"}],
                },
            }
        )
        await connection.send({"type": "response.create"})
        while (await connection.recv()).type != "response.done":
            pass


@pytest.mark.parametrize("mapped", [False, True], ids=["write", "mapped"])
@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_sdk_session_recorded_byte_exact_both_ways(
    dialect: str,
    mapped: bool,
    start_proxy: StartProxy,
    realtime_server: RealtimeServer,
    tmp_path: Path,
) -> None:
    proxy, port = await start_proxy(mapped=mapped)
    assert proxy.recorder.mapped is mapped
    client = AsyncOpenAI(api_key=API_KEY, websocket_base_url=f"ws://127.0.0.1:{port}/v1")
    connect = client.realtime.connect if dialect == "ga" else client.beta.realtime.connect
    await _session(client, connect)
    await realtime_server.connections[0].closed.wait()
    await asyncio.sleep(0.2)  # the close hook runs after both sides closed
    await proxy.recorder.drain()  # what the writer process has, written

    path = only_capture(tmp_path / "captures")
    assert "_gpt-realtime_" in path.name
    recs = assert_capture_matches(path, realtime_server)
    assert recs[0]["kind"] == "header"
    opened = recs[1]
    assert opened["kind"] == "open" and opened["status"] == 101
    assert opened["url"].startswith("ws://127.0.0.1:") and "model=gpt-realtime" in opened["url"]
    assert opened["request_headers"]["authorization"] == "[REDACTED]"
    if dialect == "beta":
        assert opened["request_headers"]["openai-beta"] == "realtime=v1"
    server_types = [
        r["event"]["type"] for r in recs if r["kind"] == "msg" and r["from"] == "server"
    ]
    delta = "response.output_audio.delta" if dialect == "ga" else "response.audio.delta"
    assert server_types.count(delta) == 3 and server_types[-1] == "response.done"
    assert recs[-1]["kind"] == "close" and recs[-1]["code"] == 1000 and recs[-1]["by"] == "client"

    raw = path.read_bytes()
    assert API_KEY.encode() not in raw and b"SECRET" not in raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    reader = CaptureReader(path)
    assert len(list(reader)) == len(recs) - 1 and reader.problems == []


@pytest.mark.parametrize("mapped", [False, True], ids=["write", "mapped"])
async def test_text_binary_non_json_and_large_messages_pass_untouched(
    mapped: bool, start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    # mapped: the 16 MiB message spans many of the capture's 1 MiB windows
    proxy, port = await start_proxy(mapped=mapped)
    big = 16 * 2**20  # issue 7: a 16 MiB message
    blob = bytes(range(256)) * 1024
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime",
        max_size=None,
        compression=None,
    ) as ws:
        assert "session.created" in await ws.recv()
        await ws.send("echo:not json at all")
        assert await ws.recv() == "echo:not json at all"
        await ws.send(blob)
        assert await ws.recv() == blob
        await ws.send('["a JSON array", "not an object"]')
        assert "bad_json" in await ws.recv()
        await ws.send(f"big:{big}")
        answer = await ws.recv()
        assert answer == "x" * big
    await realtime_server.connections[0].closed.wait()
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    recs = assert_capture_matches(only_capture(tmp_path / "captures"), realtime_server)
    msgs = [r for r in recs if r["kind"] == "msg"]
    assert msgs[1]["text"] == "echo:not json at all"
    assert "data_b64" in msgs[3] and "opcode" not in msgs[3]
    assert msgs[5]["text"] == '["a JSON array", "not an object"]'
    assert msgs[-1]["size"] == big


async def test_server_abrupt_drop_recorded_as_1006_and_client_sees_close(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    proxy, port = await start_proxy()
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send("drop")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    recs = records(only_capture(tmp_path / "captures"))
    close = recs[-1]
    assert close["kind"] == "close" and close["code"] == 1006 and close["by"] is None
    (summary,) = proxy.recorder.summaries
    assert summary["code"] == 1006 and summary["from_client"] == 1 and summary["from_server"] == 1


async def test_server_close_code_and_reason_recorded(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    proxy, port = await start_proxy()
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send("close:4000:session expired")
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4000
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    close = records(only_capture(tmp_path / "captures"))[-1]
    assert (close["code"], close["reason"], close["by"]) == (4000, "session expired", "server")


@pytest.mark.parametrize("status", [401, 403, 404, 500])
async def test_refused_upgrade_recorded_and_client_gets_upstream_answer(
    status: int, start_proxy: StartProxy, tmp_path: Path
) -> None:
    proxy, port = await start_proxy()
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(
            f"ws://127.0.0.1:{port}/v1/realtime?model=refuse-{status}",
            additional_headers={"Authorization": f"Bearer {API_KEY}"},
        )
    response = info.value.response
    assert response.status_code == status
    assert b'"code": "refused"' in response.body  # upstream's own body, untouched
    await proxy.recorder.drain()
    path = only_capture(tmp_path / "captures")
    recs = records(path)
    opened, close = recs[1], recs[2]
    assert opened["kind"] == "open" and opened["status"] == status
    assert opened["body"]["error"]["code"] == "refused"
    assert "[REDACTED]" in opened["body"]["error"]["message"]
    assert close["kind"] == "close" and close["code"] is None
    assert API_KEY.encode() not in path.read_bytes()
    assert b"sk-test-leak" not in path.read_bytes()


async def test_audio_drop_replaces_audio_by_digest(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    proxy, port = await start_proxy(audio="drop")
    client = AsyncOpenAI(api_key=API_KEY, websocket_base_url=f"ws://127.0.0.1:{port}/v1")
    await _session(client, client.realtime.connect)
    await realtime_server.connections[0].closed.wait()
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    recs = records(only_capture(tmp_path / "captures"))
    deltas = [
        r["event"]
        for r in recs
        if r["kind"] == "msg" and r["event"]["type"] == "response.output_audio.delta"
    ]
    assert len(deltas) == 3
    assert all(set(d["delta"]) == {"bytes", "sha256"} for d in deltas)
    assert [d["delta"]["bytes"] for d in deltas] == [4800] * 3


async def test_flow_keeps_at_most_one_message_over_thousands(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    """mitmproxy issue 6620: the flow must not hold every message of a long session."""
    proxy, port = await start_proxy()
    seen: list[int] = []
    recorder = proxy.recorder
    original = recorder.websocket_message

    def spy(flow: Any) -> None:
        original(flow)
        seen.append(len(flow.websocket.messages))

    recorder.websocket_message = spy  # type: ignore[method-assign]
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send("burst:3000")
        for _ in range(3000):
            await ws.recv()
        for i in range(1000):
            await ws.send(f"echo:{i}")
        for _ in range(1000):
            await ws.recv()
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    assert len(seen) == 1 + 1 + 3000 + 2000
    assert max(seen) == 1
    msgs = [r for r in records(only_capture(tmp_path / "captures")) if r["kind"] == "msg"]
    assert len(msgs) == len(seen)


async def test_unreachable_upstream_recorded_and_client_gets_proxy_error(
    tmp_path: Path, confdir: Path
) -> None:
    import socket

    from rtscope.proxy.master import RecordConfig, RecordProxy

    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    proxy = RecordProxy(
        RecordConfig(
            upstream=f"http://127.0.0.1:{dead}",
            listen_port=0,
            out=tmp_path / "captures",
            confdir=str(confdir),
            quiet=True,
        )
    )
    _, port = await proxy.start()
    try:
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m")
        assert info.value.response.status_code == 502
        await proxy.recorder.drain()
        recs = records(only_capture(tmp_path / "captures"))
    finally:
        await proxy.stop()
    opened = recs[1]
    # No upstream answer: no status; the reason is kept (the client got mitmproxy's 502).
    assert opened["kind"] == "open" and opened["status"] is None
    assert "Connect call failed" in opened["error"]
    assert recs[2]["kind"] == "close" and "Connect call failed" in recs[2]["reason"]


async def test_permessage_deflate_connection_recorded_decompressed(
    start_proxy: StartProxy, tmp_path: Path, confdir: Path
) -> None:
    async with RealtimeServer(compression="deflate") as server:
        proxy, port = await start_proxy(upstream=server.url)
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/v1/realtime?model=m", compression="deflate"
        ) as ws:
            assert ws.response is not None
            assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
            await ws.recv()
            text = "echo:" + "compressible " * 2000
            await ws.send(text)
            assert await ws.recv() == text
        await server.connections[0].closed.wait()
        await asyncio.sleep(0.2)
        await proxy.recorder.drain()  # what the writer process has, written
        assert_capture_matches(only_capture(tmp_path / "captures"), server)


async def test_invalid_utf8_text_frame_fails_with_1007_and_is_recorded(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    """mitmproxy (wsproto) cannot forward an invalid text frame; RFC 6455 §8.1 says fail with 1007.

    The recorder cannot change that; it records what happened, and both peers see a close.
    """
    proxy, port = await start_proxy()
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send(b"echo:\xff\xfe", text=True)
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1007
    await realtime_server.connections[0].closed.wait()
    assert realtime_server.connections[0].close_code == 1007
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    close = records(only_capture(tmp_path / "captures"))[-1]
    assert close["kind"] == "close" and close["code"] == 1007 and close["by"] == "client"


async def test_regular_mode_records_through_an_http_proxy(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    """--mode regular: an app that honours HTTPS_PROXY/HTTP proxies is recorded the same way."""
    proxy, port = await start_proxy(mode="regular")
    async with websockets.connect(
        f"ws://127.0.0.1:{realtime_server.port}/v1/realtime?model=gpt-realtime",
        proxy=f"http://127.0.0.1:{port}",
    ) as ws:
        await ws.recv()
        await ws.send("echo:via proxy")
        assert await ws.recv() == "echo:via proxy"
    await realtime_server.connections[0].closed.wait()
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    recs = assert_capture_matches(only_capture(tmp_path / "captures"), realtime_server)
    assert recs[1]["url"] == f"ws://127.0.0.1:{realtime_server.port}/v1/realtime?model=gpt-realtime"


async def test_secrets_in_every_handshake_place_and_event_never_reach_the_file(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    secrets = {
        "bearer": "ek_EPHEMERALabcdef0123456789",
        "azure": "0123456789abcdef0123456789abcdef",
        "query": "sk-proj-QUERYabcdefghij0123456789",
        "token": "tok-PLAINTOKEN-0123456789",
        "subprotocol": "sk-SUBPROTOabcdefghij0123456789",
        "cookie": "session=COOKIEVALUE0123456789",
        "event": "ek_INEVENTabcdef0123456789",
    }
    proxy, port = await start_proxy()
    url = (
        f"ws://127.0.0.1:{port}/v1/realtime?model=m&api-key={secrets['query']}"
        f"&token={secrets['token']}"
    )
    async with websockets.connect(
        url,
        additional_headers={
            "Authorization": f"Bearer {secrets['bearer']}",
            "api-key": secrets["azure"],
            "Cookie": secrets["cookie"],
        },
        subprotocols=[  # type: ignore[list-item]
            "realtime",
            f"openai-insecure-api-key.{secrets['subprotocol']}",
        ],
    ) as ws:
        await ws.recv()
        secret_event = {"type": "session.update", "session": {"client_secret": {"value": ""}}}
        secret_event["session"]["client_secret"]["value"] = secrets["event"]
        await ws.send(orjson.dumps(secret_event).decode())
        await ws.recv()
        await ws.send(f"echo:my key is {secrets['query']}")
        await ws.recv()
    await realtime_server.connections[0].closed.wait()
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    path = only_capture(tmp_path / "captures")
    raw = path.read_bytes()
    for name, secret in secrets.items():
        assert secret.encode() not in raw, name
    # ...while the server really received them (the proxy forwards untouched).
    conn = realtime_server.connections[0]
    assert conn.headers["authorization"] == f"Bearer {secrets['bearer']}"
    assert secrets["event"] in conn.received[0]


async def test_single_file_mode_holds_every_connection(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    proxy, port = await start_proxy(single_file="all.jsonl")
    for i in range(2):
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m{i}") as ws:
            await ws.recv()
            await ws.send(f"echo:{i}")
            await ws.recv()
        await realtime_server.connections[i].closed.wait()
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    await proxy.stop()
    path = only_capture(tmp_path / "captures")
    assert path.name == "all.jsonl"
    recs = records(path)
    assert [r["kind"] for r in recs].count("header") == 1
    opens = [r for r in recs if r["kind"] == "open"]
    closes = [r for r in recs if r["kind"] == "close"]
    assert len(opens) == 2 and len(closes) == 2 and opens[0]["conn"] != opens[1]["conn"]
    for opened in opens:
        msgs = [r for r in recs if r["kind"] == "msg" and r["conn"] == opened["conn"]]
        assert msgs[0]["event"]["type"] == "session.created"
        assert [m["text"] for m in msgs[1:]] == [msgs[1]["text"]] * 2


async def test_client_vanishing_recorded_as_1006_and_server_sees_a_close(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    proxy, port = await start_proxy()
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m")
    await ws.recv()
    await ws.send("echo:bye")
    await ws.recv()
    ws.transport.abort()  # no close frame: the client process "vanished"
    await asyncio.wait_for(realtime_server.connections[0].closed.wait(), 5)
    # mitmproxy ends the server side with a proper close frame (1006 may not be sent on the
    # wire, so the server sees 1000); the capture keeps the truth: 1006, nobody closed.
    assert realtime_server.connections[0].close_code == 1000
    await asyncio.sleep(0.2)
    await proxy.recorder.drain()  # what the writer process has, written
    close = records(only_capture(tmp_path / "captures"))[-1]
    assert close["kind"] == "close" and close["code"] == 1006 and close["by"] is None
