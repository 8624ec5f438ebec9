"""How late does ``rtscope replay --timing original`` send? p50/p99/max at a given message rate.

Builds a capture of N client messages (20 ms of silent pcm16 audio each) paced at RATE msg/s,
replays it against the simulator (``rtscope serve --simulate`` in its own process, on
127.0.0.1) and prints the lateness the replayer measured against its monotonic schedule.

Usage: ``python bench/replay_lateness.py [--rate 50] [--seconds 10] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from rtscope.capture.codec import message_record, open_record
from rtscope.capture.writer import CaptureWriter
from rtscope.replay.client import replay_once
from rtscope.replay.recording import load_recording


def make_capture(path: Path, rate: float, seconds: float) -> Path:
    chunk = base64.b64encode(bytes(int(48_000 / rate) // 2 * 2)).decode()
    t0 = 1_700_000_000.0
    with CaptureWriter(path) as writer:
        writer.write(open_record("c", t0, "ws://x/v1/realtime?model=m", [], [], 101))
        for i in range(int(rate * seconds)):
            event = {"type": "input_audio_buffer.append", "audio": chunk}
            writer.write(message_record("c", i + 1, t0 + i / rate, True, orjson.dumps(event), True))
    return path


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        capture = make_capture(Path(tmp) / "c.jsonl", args.rate, args.seconds)
        recording = load_recording(capture)
        server = subprocess.Popen(
            [sys.executable, "-m", "rtscope", "serve", "--simulate", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        url = server.stdout.readline().rsplit(" on ", 1)[1].strip()
        print(f"{len(recording.client)} messages at {args.rate:g} msg/s, timing original")
        for run in range(1, args.runs + 1):
            result = await replay_once(recording, url, Path(tmp) / f"run{run}.jsonl", grace=0.2)
            late = result.lateness
            print(
                f"run {run}: lateness p50 {late['p50_ms']:.2f} ms  p99 {late['p99_ms']:.2f} ms  "
                f"max {late['max_ms']:.2f} ms  ({late['count']} messages)"
            )
        server.terminate()
        server.wait()


if __name__ == "__main__":
    asyncio.run(main())
