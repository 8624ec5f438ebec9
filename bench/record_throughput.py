"""Messages per second through ``rtscope record`` versus a bare ``mitmdump`` (reverse mode).

One WebSocket connection; the test server sends a burst of N small events (server → client), then
the client sends N small events and waits for an echo behind them (client → server). The figure is
messages per second through the proxy for each direction. ``rtscope`` records every message to a
capture file; ``mitmdump`` records nothing (its 36 default addons + console output only).

    .venv/bin/python bench/record_throughput.py [--n 20000] [--proxy rtscope|mitmdump]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from recorder_rss import start  # noqa: E402
from tests.proxy.realtime_server import RealtimeServer  # noqa: E402

APPEND = '{"type":"input_audio_buffer.append","audio":"AAAA","n":N}'


async def run(n: int, kind: str) -> None:
    async with RealtimeServer() as server:
        with tempfile.TemporaryDirectory() as tmp:
            proc, port = await start(kind, server.url, Path(tmp))
            try:
                url = f"ws://127.0.0.1:{port}/v1/realtime?model=bench"
                async with websockets.connect(url, max_queue=None) as ws:
                    await ws.recv()
                    start_t = time.perf_counter()
                    await ws.send(f"burst:{n}")
                    for _ in range(n):
                        await ws.recv()
                    down = n / (time.perf_counter() - start_t)
                    start_t = time.perf_counter()
                    for i in range(n):
                        await ws.send(APPEND.replace("N", str(i)))
                    await ws.send("echo:end")
                    while await ws.recv() != "echo:end":
                        pass
                    up = n / (time.perf_counter() - start_t)
                print(f"{kind:9} server→client {down:8.0f} msg/s   client→server {up:8.0f} msg/s")
            finally:
                proc.terminate()
                await proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--proxy", choices=["rtscope", "mitmdump"], default="rtscope")
    ns = parser.parse_args()
    asyncio.run(run(ns.n, ns.proxy))
