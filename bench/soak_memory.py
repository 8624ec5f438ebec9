"""``make soak``'s traffic through the recorder's hook, in process: memory without machine load.

``make soak`` measures the proxy's RSS, which on a busy machine is mostly the messages mitmproxy
queues while the proxy lags behind (see docs/performance.md). This bench drives the real
``Recorder`` hooks (with the real ``LiveAnalyzer``, every rule, as ``rtscope record`` runs) on
mitmproxy test flows, with exactly the soak's messages: N connections, each second 25 client
messages (~4 KB ``input_audio_buffer.append``, every 10th an ``input_audio_buffer.commit``) and
25 server messages (~4 KB ``response.output_audio.delta``, every 10th a transcript delta), plus
the test server's answer to each commit (``input_audio_buffer.committed``,
``conversation.item.added``/``.done`` of the user item). Connections are interleaved message by
message, as the soak's clients are. It prints, every 10 s of traffic, the Python heap that is
still allocated (tracemalloc, after a full collection) and the process RSS.

    .venv/bin/python bench/soak_memory.py [--sessions 50] [--seconds 60] [--top 10]

``--top N`` lists the N source lines whose allocations grew most after the warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import re
import tempfile
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import _common as c

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

from rtscope.analyzers import LiveAnalyzer
from rtscope.proxy.addon import Recorder
from rtscope.proxy.live import LiveFindings

RATE = 25  # messages per second, each direction, per connection (tests/soak)


def rss_mib() -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


class Conn:
    """The soak's messages of one connection, second by second."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.audio = base64.b64encode(os.urandom(3072)).decode()
        self.pcm = base64.b64encode(bytes(range(256)) * 12).decode()
        self.n = 0
        self.ids = 0

    def _id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}_{self.index:02d}{self.ids:06d}"

    def _server(self, event: dict[str, Any]) -> tuple[bool, bytes]:
        event = {"type": event.pop("type"), "event_id": self._id("event"), **event}
        return False, json.dumps(event).encode()

    def first(self) -> list[tuple[bool, bytes]]:
        session = {"id": self._id("sess"), "object": "realtime.session", "type": "realtime"}
        return [self._server({"type": "session.created", "session": session})]

    def tick(self) -> list[tuple[bool, bytes]]:
        """One client message and one server message (and the answer to a commit)."""
        n = self.n
        self.n += 1
        out: list[tuple[bool, bytes]] = []
        if n % 10 == 9:
            out.append((True, json.dumps({"type": "input_audio_buffer.commit", "n": n}).encode()))
            item_id = self._id("item")
            out.append(self._server({"type": "input_audio_buffer.committed", "item_id": item_id}))
            item = {"id": item_id, "type": "message", "role": "user", "content": []}
            out.append(self._server({"type": "conversation.item.added", "item": item}))
            out.append(self._server({"type": "conversation.item.done", "item": item}))
            out.append(
                self._server(
                    {"type": "response.output_audio_transcript.delta", "n": n, "delta": "hi"}
                )
            )
        else:
            event = {"type": "input_audio_buffer.append", "n": n, "audio": self.audio}
            out.append((True, json.dumps(event).encode()))
            out.append(
                self._server({"type": "response.output_audio.delta", "n": n, "delta": self.pcm})
            )
        return out


def heap_mib() -> float:
    gc.collect()
    current, _ = tracemalloc.get_traced_memory()
    return current / 2**20


async def run(sessions: int, seconds: int, trace: bool, top: int, warm_up: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        devnull = open(os.devnull, "w")  # noqa: SIM115
        recorder = Recorder(out=devnull, err=devnull)
        recorder.out_dir = Path(tmp)
        recorder.live = LiveFindings(LiveAnalyzer(), lambda line: None)
        flows = []
        conns = [Conn(i) for i in range(sessions)]
        t = 1_763_720_000.0
        for _ in conns:
            flow = tflow.twebsocketflow(messages=False)
            flow.websocket.messages = []
            await recorder.websocket_start(flow)
            flows.append(flow)

        def send(flow: Any, from_client: bool, payload: bytes) -> None:
            flow.websocket.messages.append(WebSocketMessage(Opcode.TEXT, from_client, payload, t))
            recorder.websocket_message(flow)

        for flow, conn in zip(flows, conns, strict=True):
            for from_client, payload in conn.first():
                send(flow, from_client, payload)
        c.banner("make soak's traffic through the recorder hook, live analysis on, in process")
        if trace:
            tracemalloc.start()
        print(f"{sessions} connections, {RATE} messages/s each way, {seconds} s of traffic")
        print(f"{'time':>6} {'heap MiB':>9} {'RSS MiB':>8}")
        rows = []
        snapshot = None
        for second in range(seconds + 1):
            if second % 10 == 0:
                rows.append((second, heap_mib() if trace else float("nan"), rss_mib()))
                print(f"{second:5d}s {rows[-1][1]:9.2f} {rows[-1][2]:8.1f}", flush=True)
                if trace and top and snapshot is None and second >= warm_up:
                    snapshot = tracemalloc.take_snapshot()
            if second == seconds:
                break
            for _ in range(RATE):
                t += 1 / RATE
                for flow, conn in zip(flows, conns, strict=True):
                    for from_client, payload in conn.tick():
                        send(flow, from_client, payload)
        warm = next(r for r in rows if r[0] >= warm_up)
        last = rows[-1]
        print(
            f"after warm-up ({warm[0]} s) → end: heap {last[1] - warm[1]:+.2f} MiB, "
            f"RSS {last[2] - warm[2]:+.1f} MiB"
        )
        if snapshot is not None:
            grown = tracemalloc.take_snapshot().compare_to(snapshot, "lineno")
            for stat in grown[:top]:
                print(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d}  {stat.traceback}")
        for flow in flows:
            recorder.websocket_end(flow)
        await recorder.done()
        devnull.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--no-trace", action="store_true", help="RSS only (tracemalloc slows the run ~2×)"
    )
    parser.add_argument("--top", type=int, default=0, help="list the N lines that grew most")
    parser.add_argument(
        "--warm-up", type=int, default=None, help="seconds of warm-up (default: a third)"
    )
    args = parser.parse_args()
    warm_up = args.seconds // 3 if args.warm_up is None else args.warm_up
    asyncio.run(run(args.sessions, args.seconds, not args.no_trace, args.top, warm_up))
