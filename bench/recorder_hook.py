"""Per-message cost of the recorder's ``websocket_message`` hook (µs/message), no network.

Runs the real hook on a mitmproxy test flow with a real capture file in a temp directory:
encode (``message_record`` + ``dumps``), one ``write(2)``, trim ``flow.websocket.messages``.
For comparison it also times the encode alone, the write alone, and the same write handed to a
worker thread and awaited (``asyncio.to_thread``), the alternative the design rejects.

    .venv/bin/python bench/recorder_hook.py [--n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

from rtscope.capture.codec import dumps, message_record
from rtscope.proxy.addon import Recorder


def payloads() -> dict[str, bytes]:
    audio = base64.b64encode(os.urandom(4800)).decode()  # 100 ms of 24 kHz PCM16
    return {
        "control event (~150 B)": json.dumps(
            {
                "type": "response.create",
                "event_id": "evt_123",
                "response": {"modalities": ["audio"]},
            }
        ).encode(),
        "audio append (~6.5 KB)": json.dumps(
            {"type": "input_audio_buffer.append", "event_id": "evt_1", "audio": audio}
        ).encode(),
        "audio delta (~6.6 KB)": json.dumps(
            {
                "type": "response.output_audio.delta",
                "event_id": "evt_2",
                "response_id": "resp_1",
                "item_id": "item_1",
                "output_index": 0,
                "content_index": 0,
                "delta": audio,
            }
        ).encode(),
    }


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(out=open(os.devnull, "w"))  # noqa: SIM115
        recorder.out_dir = Path(tmp)
        flow = tflow.twebsocketflow(messages=False)
        flow.websocket.messages = []
        await recorder.websocket_start(flow)
        header = f"{'payload':28} {'hook µs/msg':>12} {'encode only':>12} {'write only':>11}"
        print(header + f" {'thread handoff':>15}")
        for name, payload in payloads().items():
            message = WebSocketMessage(Opcode.TEXT, True, payload)
            hook_times = []
            for _ in range(3):
                start = time.perf_counter()
                for _ in range(n):
                    flow.websocket.messages.append(message)
                    recorder.websocket_message(flow)
                hook_times.append((time.perf_counter() - start) / n * 1e6)
            start = time.perf_counter()
            for i in range(n):
                line = dumps(message_record("c", i, 1.0, True, payload, True))
            encode = (time.perf_counter() - start) / n * 1e6
            fd = os.open(Path(tmp) / "raw", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            start = time.perf_counter()
            for _ in range(n):
                os.write(fd, line)
            write = (time.perf_counter() - start) / n * 1e6
            m = max(1, n // 10)
            start = time.perf_counter()
            for _ in range(m):
                await asyncio.to_thread(os.write, fd, line)
            handoff = (time.perf_counter() - start) / m * 1e6
            os.close(fd)
            row = f"{name:28} {min(hook_times):12.1f} {encode:12.1f} {write:11.1f}"
            print(row + f" {handoff:15.1f}")
        recorder.websocket_end(flow)
        await recorder.done()
        assert len(flow.websocket.messages) <= 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="messages per payload kind")
    asyncio.run(run(parser.parse_args().n))
