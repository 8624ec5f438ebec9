"""Several clients at once against ``rtscope serve CAPTURE``: each gets its own playback.

Records one simulator session (a GA audio response: ~1 MB of base64 audio deltas), serves it
with ``--speed`` and runs CLIENTS concurrent clients that send the recorded client messages and
read everything; prints wall time, per-client message counts and throughput. Usage:
``python bench/serve_concurrency.py [--clients 20] [--speed 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

from rtscope.capture.codec import payload_of
from rtscope.replay.client import replay_once
from rtscope.replay.playback import Playback
from rtscope.replay.recording import Recording, load_recording
from rtscope.replay.sim import SimOptions, simulator_factory
from rtscope.replay.wsserver import start_server


async def record_session(path: Path) -> Recording:
    """A short GA session against the simulator, recorded by the replayer itself."""
    from rtscope.capture.codec import message_record, open_record
    from rtscope.capture.writer import CaptureWriter

    script = path.with_name("script.jsonl")
    with CaptureWriter(script) as writer:
        writer.write(open_record("c", 0.0, "ws://x/v1/realtime?model=m", [], [], 101))
        events = [
            {"type": "session.update", "session": {"type": "realtime", "instructions": "x"}},
            {"type": "response.create"},
        ]
        for i, event in enumerate(events):
            writer.write(message_record("c", i + 1, 0.1 * i, True, orjson.dumps(event), True))
    server = await start_server(simulator_factory(SimOptions(audio_ms_per_delta=1000)))
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    await replay_once(load_recording(script), url, path, grace=0.5)
    server.close()
    await server.wait_closed()
    return load_recording(path)


async def client(url: str, recording: Recording) -> tuple[int, int]:
    messages = size = 0
    async with connect(url, max_size=None) as ws:
        for msg in recording.client:
            payload, _ = payload_of(msg)
            await ws.send(payload.decode())
        # The recording ends with the client closing: read what the server recorded, then close.
        while messages < len(recording.server):
            message = await ws.recv()
            messages += 1
            size += len(message)
    return messages, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--speed", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        recording = await record_session(Path(tmp) / "session.jsonl")

        def factory(handshake: object, now: float) -> Playback:
            return Playback(recording, now, speed=args.speed)

        server = await start_server(factory)
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        start = time.perf_counter()
        results = await asyncio.gather(*(client(url, recording) for _ in range(args.clients)))
        elapsed = time.perf_counter() - start
        server.close()
        await server.wait_closed()
    counts = {m for m, _ in results}
    total = sum(s for _, s in results)
    print(f"{args.clients} clients, speed {args.speed:g}: {elapsed:.2f} s wall")
    print(f"messages per client: {sorted(counts)} (recorded server side: {len(recording.server)})")
    print(f"served {total / 1e6:.1f} MB, {total / 1e6 / elapsed:.1f} MB/s")


if __name__ == "__main__":
    asyncio.run(main())
