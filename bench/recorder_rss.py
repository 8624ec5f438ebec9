"""Memory of the recording proxy over a long session (RSS of the proxy process, in MiB).

Starts ``rtscope record`` (or, for comparison, a bare ``mitmdump`` in reverse mode, which keeps
every message: mitmproxy issue 6620) in front of the test Realtime server, streams audio-sized
messages (~6.5 KB JSON, like 100 ms of 24 kHz PCM16) both ways through one WebSocket connection,
and prints the proxy's RSS every N messages.

    .venv/bin/python bench/recorder_rss.py [--messages N] [--every N] [--proxy rtscope|mitmdump]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import socket
import sys
import tempfile
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.proxy.realtime_server import RealtimeServer  # noqa: E402


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start(kind: str, upstream: str, out: Path) -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    if kind == "rtscope":
        args = [
            sys.executable,
            "-m",
            "rtscope",
            "record",
            "--quiet",
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            upstream,
            "--out",
            str(out),
        ]
    else:
        mitmdump = str(Path(sys.executable).parent / "mitmdump")
        args = [
            mitmdump,
            "-q",
            "--mode",
            f"reverse:{upstream}@{port}",
            "--listen-host",
            "127.0.0.1",
        ]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return proc, port
    raise RuntimeError("proxy did not start")


async def run(messages: int, every: int, kind: str) -> None:
    audio = base64.b64encode(os.urandom(4800)).decode()
    async with RealtimeServer() as server:
        with tempfile.TemporaryDirectory() as tmp:
            proc, port = await start(kind, server.url, Path(tmp))
            try:
                async with websockets.connect(
                    f"ws://127.0.0.1:{port}/v1/realtime?model=bench", max_size=None
                ) as ws:
                    await ws.recv()
                    print(f"{kind}: start RSS {rss_mib(proc.pid):.1f} MiB")
                    for i in range(1, messages + 1):
                        event = {"type": "input_audio_buffer.append", "audio": audio, "n": i}
                        await ws.send("echo:" + json.dumps(event))  # echoed: both directions
                        await ws.recv()
                        if i % every == 0:
                            mib = i * 2 * len(audio) / 2**20
                            print(
                                f"{kind}: {i:>7} msgs each way (~{mib:.0f} MiB through), "
                                f"RSS {rss_mib(proc.pid):.1f} MiB"
                            )
            finally:
                proc.terminate()
                await proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40000)
    parser.add_argument("--every", type=int, default=10000)
    parser.add_argument("--proxy", choices=["rtscope", "mitmdump"], default="rtscope")
    ns = parser.parse_args()
    asyncio.run(run(ns.messages, ns.every, ns.proxy))
