"""`rtscope export --har/--wav`: real subprocesses and real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures"


def rtscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args], capture_output=True, text=True, timeout=60
    )


def test_export_har_and_wav_at_once(tmp_path: Path) -> None:
    har = tmp_path / "s.har"
    wavs = tmp_path / "audio"
    result = rtscope(
        "export", str(FIXTURES / "har" / "mitmproxy.har"), "--har", str(har), "--wav", str(wavs)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"wrote {har}: 1 WebSocket entry, 11 messages"
    assert lines[1].split() == ["file", "seconds", "bytes", "format"]
    assert lines[2].split() == [str(wavs / "1_input.wav"), "0.10", "4844", "pcm16", "24", "kHz"]
    assert lines[3].split() == [str(wavs / "1_item_1.wav"), "0.10", "4844", "pcm16", "24", "kHz"]
    assert lines[-1] == f"wrote 2 WAV files into {wavs}"
    assert len(json.loads(har.read_text())["log"]["entries"][0]["_webSocketMessages"]) == 11


def test_export_har_to_stdout() -> None:
    result = rtscope(
        "export", str(FIXTURES / "seeds" / "004_text-history-drops-audio.txt"), "--har", "-"
    )
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert len(doc["log"]["entries"][0]["_webSocketMessages"]) == 6
    assert result.stderr.startswith("wrote -: 1 WebSocket entry, 6 messages")


def test_export_without_audio_says_so(tmp_path: Path) -> None:
    result = rtscope(
        "export",
        str(FIXTURES / "seeds" / "000_modality-switch-text-only.txt"),
        "--wav",
        str(tmp_path / "w"),
    )
    assert result.returncode == 0
    assert "note: no audio in this capture" in result.stdout


def test_export_needs_an_output_and_a_readable_input(tmp_path: Path) -> None:
    nothing = rtscope("export", str(FIXTURES / "har" / "chrome.har"))
    assert nothing.returncode == 2 and "give --har FILE and/or --wav DIR" in nothing.stderr
    missing = rtscope("export", str(tmp_path / "nope.jsonl"), "--har", str(tmp_path / "o.har"))
    assert missing.returncode == 2
    assert missing.stderr == f"rtscope: {tmp_path / 'nope.jsonl'}: no such file\n"


# --- a real session: openai SDK client -> mitmproxy in process (-w) -> local Realtime server


def _sine(freq: float, seconds: float, rate: int = 24000) -> list[int]:
    import math

    return [int(9000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate))]


def _pack(values: list[int]) -> bytes:
    import struct

    return struct.pack(f"<{len(values)}h", *values)


def _wav_samples(path: Path) -> tuple[int, list[int]]:
    import struct
    import wave

    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        return wav.getframerate(), list(struct.unpack(f"<{len(frames) // 2}h", frames))


@pytest.mark.filterwarnings("ignore::DeprecationWarning:ldap3.*")  # mitmproxy's proxyauth import
async def test_wav_export_of_an_openai_sdk_session_recorded_by_mitmproxy(tmp_path: Path) -> None:
    import asyncio
    import base64
    import socket

    from mitmproxy import options
    from mitmproxy.tools.dump import DumpMaster
    from openai import AsyncOpenAI
    from websockets.asyncio.server import serve

    spoken = _sine(440, 0.2)
    answer_a, answer_b = _sine(660, 0.1), _sine(880, 0.05)
    fmt = {"type": "audio/pcm", "rate": 24000}
    session = {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {"input": {"format": fmt}, "output": {"format": fmt}},
    }

    async def realtime_server(ws) -> None:  # type: ignore[no-untyped-def]
        await ws.send(json.dumps({"type": "session.created", "event_id": "e1", "session": session}))
        async for raw in ws:
            event = json.loads(raw)
            if event["type"] == "session.update":
                await ws.send(
                    json.dumps({"type": "session.updated", "event_id": "e2", "session": session})
                )
            elif event["type"] == "response.create":
                await ws.send(
                    json.dumps(
                        {
                            "type": "response.created",
                            "event_id": "e3",
                            "response": {
                                "id": "resp_1",
                                "object": "realtime.response",
                                "status": "in_progress",
                                "output": [],
                            },
                        }
                    )
                )
                for n, chunk in enumerate((answer_a, answer_b)):
                    delta = {
                        "type": "response.output_audio.delta",
                        "event_id": f"d{n}",
                        "response_id": "resp_1",
                        "item_id": "item_1",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": base64.b64encode(_pack(chunk)).decode(),
                    }
                    await ws.send(json.dumps(delta))
                await ws.send(
                    json.dumps(
                        {
                            "type": "response.done",
                            "event_id": "e4",
                            "response": {
                                "id": "resp_1",
                                "object": "realtime.response",
                                "status": "completed",
                                "output": [],
                            },
                        }
                    )
                )

    flows = tmp_path / "session.mitm"
    async with serve(realtime_server, "127.0.0.1", 0) as server:
        upstream = server.sockets[0].getsockname()[1]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            proxy_port = sock.getsockname()[1]
        opts = options.Options(
            listen_host="127.0.0.1",
            listen_port=proxy_port,
            mode=[f"reverse:http://127.0.0.1:{upstream}"],
        )
        master = DumpMaster(opts, with_termlog=False, with_dumper=False)
        master.options.update(save_stream_file=str(flows))
        task = asyncio.create_task(master.run())
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                await asyncio.sleep(0.02)
        client = AsyncOpenAI(
            api_key="sk-test-0123456789abcdefghijklmnop",
            websocket_base_url=f"ws://127.0.0.1:{proxy_port}/v1",
        )
        async with client.realtime.connect(model="gpt-realtime") as connection:
            await connection.session.update(
                session={"type": "realtime", "output_modalities": ["audio"]}
            )
            half = len(spoken) // 2
            for part in (spoken[:half], spoken[half:]):
                await connection.input_audio_buffer.append(
                    audio=base64.b64encode(_pack(part)).decode()
                )
            await connection.response.create()
            async for event in connection:
                if event.type == "response.done":
                    break
        await client.close()
        for _ in range(100):
            if flows.exists() and flows.stat().st_size:
                break
            await asyncio.sleep(0.02)
        await master.addons.get("proxyserver").servers.update([])  # mitmproxy leaves it open
        master.shutdown()
        await task

    out = tmp_path / "wav"
    result = await asyncio.to_thread(rtscope, "export", str(flows), "--wav", str(out))
    assert result.returncode == 0, result.stderr
    inputs, items = sorted(out.glob("*_input.wav")), sorted(out.glob("*_item_1.wav"))
    assert len(inputs) == 1 and len(items) == 1
    assert _wav_samples(inputs[0]) == (24000, spoken)
    assert _wav_samples(items[0]) == (24000, answer_a + answer_b)
    assert "0.20" in result.stdout and "0.15" in result.stdout
