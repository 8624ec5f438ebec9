"""Load (issue 7): 50 concurrent sessions through ``rtscope record``, 25 messages/s each way.

Slow (60 s by default): ``make soak``. ``RTSCOPE_SOAK_SECONDS`` and ``RTSCOPE_SOAK_SESSIONS``
shorten it for a quick look. Checks, per connection: no message lost or reordered (in the capture
and at both peers), and the proxy's RSS stays flat: sampled every 5 s, printed every 10 s with
the growth after the warm-up (the first third: connections, buffers, caches), asserted only
loosely because a loaded machine makes the proxy queue messages (see docs/performance.md).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest
import websockets

from rtscope.capture.reader import CaptureReader

from ..cli.test_record import start_record

RATE = 25  # messages per second, each direction, per session
SAMPLE_S = 5


def _family(pid: int) -> list[psutil.Process]:
    """The recorder and its children (its writer process, with ``--writer process``)."""
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for proc in _family(pid):
        times = proc.cpu_times()
        total += times.user + times.system
    return total


def rss_mib(pid: int) -> float:
    return sum(proc.memory_info().rss for proc in _family(pid)) / 2**20


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("writer", ["inline", "process"])
async def test_50_sessions_25_msgs_per_s_each_way_lose_nothing(tmp_path: Path, writer: str) -> None:
    seconds = int(os.environ.get("RTSCOPE_SOAK_SECONDS", "60"))
    sessions = int(os.environ.get("RTSCOPE_SOAK_SESSIONS", "50"))
    count = seconds * RATE
    audio = base64.b64encode(os.urandom(3072)).decode()  # ~4 KB appends, like the deltas
    out = tmp_path / "captures"
    # The server runs in its own process, so that the load generator is not the bottleneck.
    log = tmp_path / "server.jsonl"
    server_proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.proxy.realtime_server",
        str(log),
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert server_proc.stdout is not None
    server_port = int(await asyncio.wait_for(server_proc.stdout.readline(), 30))
    try:
        proc, port = await start_record(
            "--writer",
            writer,
            "--quiet",
            "--upstream",
            f"http://127.0.0.1:{server_port}",
            "--out",
            str(out),
            "--confdir",
            str(tmp_path / "mitmproxy"),
        )
        samples: list[float] = []

        async def sample() -> None:
            while True:
                samples.append(rss_mib(proc.pid))
                await asyncio.sleep(SAMPLE_S)

        async def session(i: int) -> list[Any]:
            url = f"ws://127.0.0.1:{port}/v1/realtime?model=load{i:02d}"
            async with websockets.connect(
                url, max_queue=None, max_size=None, ping_interval=None
            ) as ws:
                received: list[Any] = [await ws.recv()]
                await ws.send(f"stream:{count}:{1000 // RATE}")

                async def read() -> None:
                    while (message := await ws.recv()) != "echo-last:end":
                        received.append(message)

                reader = asyncio.create_task(read())
                loop = asyncio.get_running_loop()
                start = loop.time()
                for n in range(count):
                    delay = start + n / RATE - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if n % 10 == 9:
                        event = {"type": "input_audio_buffer.commit", "n": n}
                    else:
                        event = {"type": "input_audio_buffer.append", "n": n, "audio": audio}
                    await ws.send(orjson.dumps(event).decode())
                await ws.send("echo-last:end")
                await reader
            return received

        sampler = asyncio.create_task(sample())
        began = asyncio.get_running_loop().time()
        cpu_before = cpu_seconds(proc.pid)
        try:
            results = await asyncio.gather(*(session(i) for i in range(sessions)))
            elapsed = asyncio.get_running_loop().time() - began
            cpu = cpu_seconds(proc.pid) - cpu_before
            await asyncio.sleep(1)
            samples.append(rss_mib(proc.pid))
        finally:
            sampler.cancel()
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.communicate(), 60)
    finally:
        server_proc.terminate()
        await asyncio.wait_for(server_proc.communicate(), 60)
    connections = [orjson.loads(line) for line in log.read_bytes().splitlines()]

    print("\nrecorder RSS (MiB, the proxy and its writer process):")
    for i in range(0, len(samples), 10 // SAMPLE_S):
        print(f"  {i * SAMPLE_S:4d} s  {samples[i]:6.1f}")
    print(f"   end    {samples[-1]:6.1f}")
    warm = len(samples) // 3
    print(
        f"start {samples[0]:.1f}, after warm-up ({warm * SAMPLE_S} s) {samples[warm]:.1f}, "
        f"end {samples[-1]:.1f} MiB: {samples[-1] - samples[warm]:+.1f} MiB after warm-up "
        f"(min..max {min(samples[warm:]):.1f}..{max(samples[warm:]):.1f})"
    )
    by_model = {}
    for conn in connections:
        match = re.search(r"model=(load\d+)", conn["path"])
        assert match is not None
        by_model[match.group(1)] = conn
    assert len(by_model) == sessions
    total = 0
    for i, got in enumerate(results):
        conn = by_model[f"load{i:02d}"]
        # Both peers got everything, in order.
        assert len(conn["received"]) == count + 2
        assert [orjson.loads(m)["n"] for m in conn["received"][1:-1]] == list(range(count))
        assert got == conn["sent"][:-1]  # (commits are answered, so more than count + 2)
        (path,) = out.glob(f"*_load{i:02d}_*.jsonl")
        msgs = [r for r in CaptureReader(path) if r["kind"] == "msg"]
        client = [r for r in msgs if r["from"] == "client"]
        server_side = [r for r in msgs if r["from"] == "server"]
        assert (
            client[0]["text"] == conn["received"][0] and client[-1]["text"] == conn["received"][-1]
        )
        assert [r["event"] for r in client[1:-1]] == [
            orjson.loads(m) for m in conn["received"][1:-1]
        ]
        assert len(server_side) == len(conn["sent"])
        streamed = [r["event"] for r in server_side if "event" in r and "n" in r["event"]]
        assert [e["n"] for e in streamed] == list(range(count))
        assert [e["event_id"] for e in streamed] == [
            orjson.loads(m)["event_id"] for m in conn["sent"] if '"n": ' in m
        ]
        total += len(msgs)
    print(f"{sessions} sessions, {total} messages recorded, none lost or reordered")
    print(f"{seconds} s of scheduled traffic took {elapsed:.1f} s end to end")
    print(
        f"recorder CPU: {cpu:.1f} s ({cpu / elapsed:.0%} of a core), {cpu / total * 1e6:.0f} µs/msg"
    )
    lag = elapsed - seconds
    if lag > 0.1 * seconds:
        print(
            f"the proxy lagged {lag:.0f} s behind the schedule (a loaded machine): its RSS then "
            "holds the messages mitmproxy queued, not only what it keeps (bench/soak_memory.py "
            "measures that without the load)"
        )
    steady = samples[len(samples) // 3 :]
    # flat: no per-message growth
    assert max(steady) - min(steady) < 64, (f"lag {lag:.1f} s", samples)
