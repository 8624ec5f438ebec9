"""The client replayer against real servers on 127.0.0.1: the mock server of the same capture,
and the simulator (seed 000: original timing reproduces the text-only answer, ack timing fixes
it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from rtscope.capture.sources import open_source
from rtscope.replay.client import build_headers, replay_once, target_url
from rtscope.replay.demo_client import run_demo_session
from rtscope.replay.diff import diff_records
from rtscope.replay.playback import Playback
from rtscope.replay.recording import load_recording
from rtscope.replay.runner import load_analyzer, run
from rtscope.replay.sim import SimOptions, simulator_factory
from rtscope.replay.wsserver import start_server


async def serve_recording(recording, **kwargs):
    def factory(handshake, now):
        return Playback(recording, now, **kwargs)

    server = await start_server(factory)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def server_messages(path: Path) -> list[dict]:
    return [r for r in open_source(path) if r.get("kind") == "msg"]


def last_response_content(path: Path) -> list[str]:
    """Content types of the last response.done in a capture, read straight from the events."""
    done = [
        r["event"]["response"]
        for r in open_source(path)
        if r.get("kind") == "msg" and r.get("event", {}).get("type") == "response.done"
    ]
    return [c["type"] for item in done[-1]["output"] for c in item.get("content", [])]


async def test_replay_against_serve_of_the_same_capture_is_equivalent(demo_capture, tmp_path):
    recording = load_recording(demo_capture)
    server, url = await serve_recording(recording)
    try:
        result = await replay_once(recording, url, tmp_path / "run.jsonl", timing="original")
    finally:
        server.close()
        await server.wait_closed()
    assert result.sent == len(recording.client)
    assert result.unmapped == []
    diff = diff_records(recording.messages, server_messages(result.capture), sides=("server",))
    assert diff.equivalent, diff.divergences[:1]
    assert result.lateness["count"] == len(recording.client)


async def test_openai_sdk_client_against_serve_of_a_capture(demo_capture):
    recording = load_recording(demo_capture)
    server, url = await serve_recording(recording, strict=True)
    try:
        # The same script that made the capture; strict mode would close on any mismatch.
        await asyncio.wait_for(run_demo_session(url + "/v1"), 20)
    finally:
        server.close()
        await server.wait_closed()


async def test_run_capture_header_names_the_replayed_capture_and_options(demo_capture, tmp_path):
    recording = load_recording(demo_capture)
    server = await start_server(simulator_factory(SimOptions(scenario="modality-race")))
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        result = await replay_once(recording, url, tmp_path / "r.jsonl", timing="asap", speed=2)
    finally:
        server.close()
        await server.wait_closed()
    lines = [orjson.loads(line) for line in result.capture.read_bytes().splitlines()]
    header = lines[0]
    assert header["replay_of"] == str(demo_capture)
    assert header["replay_options"]["timing"] == "asap"
    assert header["replay_options"]["speed"] == 2
    assert lines[-1]["kind"] == "replay" and "lateness" in lines[-1]
    assert result.capture.stat().st_mode & 0o777 == 0o600


async def test_seed_000_text_only_with_original_timing_and_audio_with_ack(demo_capture, tmp_path):
    # The recorded demo itself shows seed 000: the answer after the switch is text-only.
    assert last_response_content(demo_capture) == ["text"]
    recording = load_recording(demo_capture)
    server = await start_server(simulator_factory(SimOptions(scenario="modality-race")))
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        report = await run(
            recording, url, tmp_path, timings=["original", "ack"], repeat=3, analyzer=None
        )
    finally:
        server.close()
        await server.wait_closed()
    by_timing: dict[str, list[list[str]]] = {"original": [], "ack": []}
    for r in report.runs:
        by_timing[r.result.timing].append(last_response_content(r.result.capture))
    assert sum(c == ["text"] for c in by_timing["original"]) >= 2  # most original runs
    assert by_timing["ack"] == [["audio"]] * 3  # no ack run is text-only


async def test_seed_000_findings_table(demo_capture, tmp_path):
    analyzer = load_analyzer()
    assert analyzer is not None  # rtscope.analyzers ships with rtscope
    recording = load_recording(demo_capture)
    server = await start_server(simulator_factory(SimOptions(scenario="modality-race")))
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        report = await run(
            recording, url, tmp_path, timings=["original", "ack"], repeat=2, analyzer=analyzer
        )
    finally:
        server.close()
        await server.wait_closed()
    row = report.table()["text-only-response"]
    assert row["original"] == {"hits": 1, "runs": 1}
    assert row["replay/original"]["hits"] >= 1
    assert row["replay/ack"] == {"hits": 0, "runs": 2}


def test_target_url_takes_the_recorded_path_and_model(demo_capture):
    recording = load_recording(demo_capture)
    assert target_url("ws://127.0.0.1:1", recording).startswith("ws://127.0.0.1:1/v1/realtime?")
    assert "model=" in target_url("ws://127.0.0.1:1/v1/realtime", recording)
    assert target_url("ws://h/x?model=m", recording) == "ws://h/x?model=m"


def test_credentials_come_from_the_environment_and_headers_never_the_capture(demo_capture):
    recording = load_recording(demo_capture)
    headers = dict(build_headers(recording, [], env={"OPENAI_API_KEY": "sk-test"}))
    assert headers == {"Authorization": "Bearer sk-test", "OpenAI-Beta": "realtime=v1"}
    overridden = dict(build_headers(recording, [("OpenAI-Beta", "")], env={}))
    assert overridden == {}


async def test_unreachable_target_is_a_replay_error(demo_capture, tmp_path):
    from rtscope.errors import ReplayError

    with pytest.raises(ReplayError, match="cannot connect to ws://127.0.0.1:9/"):
        await replay_once(load_recording(demo_capture), "ws://127.0.0.1:9", tmp_path / "x.jsonl")


async def test_serve_gives_each_of_several_clients_its_own_playback(tmp_path):
    from websockets.asyncio.client import connect

    from .captures import TEXT_SESSION, write_capture

    recording = load_recording(write_capture(tmp_path / "c.jsonl", TEXT_SESSION))
    server, url = await serve_recording(recording, speed=5.0)

    async def one_client() -> list[str]:
        got = []
        async with connect(url) as ws:
            for msg in recording.client:
                await ws.send(orjson.dumps(msg["event"]).decode())
            while len(got) < len(recording.server):
                got.append(orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"])
        return got

    try:
        results = await asyncio.gather(*(one_client() for _ in range(5)))
    finally:
        server.close()
        await server.wait_closed()
    expected = [m["event"]["type"] for m in recording.server]
    assert results == [expected] * 5


async def test_replay_survives_a_server_that_drops_the_connection(demo_capture, tmp_path):
    server = await start_server(simulator_factory(SimOptions(scenario="abnormal-close")))
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        result = await replay_once(load_recording(demo_capture), url, tmp_path / "r.jsonl")
    finally:
        server.close()
        await server.wait_closed()
    assert result.close_code == 1006
    assert result.sent < len(load_recording(demo_capture).client)
    assert any("closed" in note for note in result.notes)
    records = list(open_source(result.capture))
    assert records[-2]["kind"] == "close" and records[-2]["code"] == 1006


async def never_reading_server() -> tuple[asyncio.Server, asyncio.Event]:
    """Accepts the WebSocket handshake, then never reads; a 4 KiB receive buffer (set on the
    listening socket, so autotuning is off) makes the client's writes back up quickly."""
    import base64
    import hashlib
    import socket

    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        await stop.wait()
        writer.close()

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(handle, sock=sock)
    return server, stop


async def test_replay_gives_up_on_a_server_that_never_reads(tmp_path):
    import base64

    from .captures import write_capture

    big = base64.b64encode(bytes(300_000)).decode()
    capture = write_capture(
        tmp_path / "big.jsonl",
        [(0.0, "client", {"type": "input_audio_buffer.append", "audio": big})] * 100,
    )
    server, stop = await never_reading_server()
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        result = await replay_once(
            load_recording(capture), url, tmp_path / "r.jsonl", timing="asap", send_timeout=0.5
        )
    finally:
        stop.set()
        server.close()
        await server.wait_closed()
    assert result.sent < 100
    assert "the server stopped reading (a send waited 0.5 s)" in result.notes
