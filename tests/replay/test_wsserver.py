"""The websockets shell survives bad clients: garbage, mid-stream disconnects, no reading."""

from __future__ import annotations

import asyncio
import logging
import socket

import orjson
from websockets.asyncio.client import connect

from rtscope.replay.sim import SimOptions, simulator_factory
from rtscope.replay.wsserver import start_server


async def recv_until(ws, etype: str) -> dict:
    while True:
        event = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        if event["type"] == etype:
            return event


async def test_garbage_gets_errors_and_the_session_continues(simulator_url):
    async with connect(simulator_url + "/v1/realtime") as ws:
        await recv_until(ws, "session.created")
        await ws.send(b"\xff\x00binary")
        await ws.send("{not json")
        for _ in range(2):
            assert (await recv_until(ws, "error"))["error"]["code"] == "invalid_event"
        await ws.send('{"type":"response.create","response":{"output_modalities":["text"]}}')
        assert (await recv_until(ws, "response.done"))["response"]["status"] == "completed"


async def test_beta_header_selects_the_beta_dialect(simulator_url):
    async with connect(simulator_url, additional_headers={"OpenAI-Beta": "realtime=v1"}) as ws:
        await recv_until(ws, "session.created")
        assert (await recv_until(ws, "conversation.created"))["conversation"]["id"]


async def test_client_that_disconnects_mid_stream_does_not_hurt_others(simulator_url):
    ws = await connect(simulator_url)
    await recv_until(ws, "session.created")
    await ws.send('{"type":"response.create"}')
    await recv_until(ws, "response.output_audio.delta")
    ws.transport.abort()  # no close frame
    await ws.wait_closed()
    async with connect(simulator_url) as other:
        await recv_until(other, "session.created")
        await other.send('{"type":"response.create"}')
        assert (await recv_until(other, "response.done"))["response"]["status"] == "completed"


async def lazy_client(port: int, payload: bytes) -> asyncio.StreamWriter:
    """A raw WebSocket client with a tiny receive buffer that sends one message and never
    reads (SO_RCVBUF set before connecting also turns off the kernel's autotuning)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    _, writer = await asyncio.open_connection(sock=sock)
    writer.write(
        b"GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    writer.write(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    await writer.drain()
    return writer


async def assert_dropped_for_not_reading(port: int, first: bytes, caplog) -> None:
    """A :func:`lazy_client` that sends ``first`` is dropped for not reading within 10 s."""
    with caplog.at_level(logging.WARNING, logger="rtscope.serve"):
        lazy = await lazy_client(port, first)
        for _ in range(100):
            if "does not read" in caplog.text:
                break
            await asyncio.sleep(0.1)
        assert "does not read; dropping the connection" in caplog.text
        lazy.close()
        await lazy.wait_closed()


async def test_client_that_never_reads_is_dropped_after_the_send_timeout(caplog):
    # 20 s of audio per delta: ~17 MB for one response, far more than the socket buffers hold.
    options = SimOptions(audio_ms_per_delta=20_000)
    server = await start_server(simulator_factory(options), send_timeout=0.5)
    port = server.sockets[0].getsockname()[1]
    try:
        await assert_dropped_for_not_reading(port, b'{"type":"response.create"}', caplog)
        async with connect(f"ws://127.0.0.1:{port}") as other:  # the server still serves
            assert (await recv_until(other, "session.created"))["session"]["id"]
    finally:
        server.close()
        await server.wait_closed()


async def test_session_expiry_closes_with_1001(simulator_url):
    server = await start_server(
        simulator_factory(SimOptions(scenario="session-expiry", expiry_s=0.3))
    )
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with connect(url) as ws:
            assert (await recv_until(ws, "error"))["error"]["code"] == "session_expired"
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1001
    finally:
        server.close()
        await server.wait_closed()


async def test_abnormal_close_is_seen_as_1006():
    server = await start_server(simulator_factory(SimOptions(scenario="abnormal-close")))
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with connect(url) as ws:
            await ws.send('{"type":"response.create"}')
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1006
    finally:
        server.close()
        await server.wait_closed()


class _Flood:
    """A session that has 4 000 small events (8 KiB each, 32 MB in all) due at once: each alone
    fits websockets' write buffer, so the server sends it without a timeout while the buffer is
    empty enough, and must still stop and drop a client that never reads."""

    closed = False

    def __init__(self) -> None:
        self.pending = [b'{"type":"x","pad":"' + b"a" * 8192 + b'"}'] * 4000
        self.sent = 0

    def receive(self, now: float, data: str | bytes) -> None:
        pass

    def due(self, now: float) -> list[object]:
        out, self.pending = self.pending, []
        self.sent += len(out)
        return [type("Send", (), {"event": p})() for p in out]

    def next_due(self) -> float | None:
        return None


async def test_small_sends_to_a_client_that_never_reads_still_end_in_the_send_timeout(caplog):
    sessions: list[_Flood] = []

    def factory(handshake: object, now: float) -> _Flood:
        sessions.append(_Flood())
        return sessions[-1]

    server = await start_server(factory, send_timeout=0.5)
    port = server.sockets[0].getsockname()[1]
    try:
        await assert_dropped_for_not_reading(port, b'{"type":"noop"}', caplog)
    finally:
        server.close()
        await server.wait_closed()
