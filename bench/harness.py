"""Load harness: a `websockets` sink/echo/burst server and the clients that measure through it.

The server runs in its own process (``python bench/harness.py server --port P``) so that client,
proxy and server each get a CPU; the clients run in the calling process on a fresh event loop.
Every proxy under test sits between them in reverse mode; the URL's query selects the server's
behaviour, so the same proxy carries every kind of load:

- ``?mode=sink``: count client messages; a ``bench.mark`` control message is answered with
  ``{"type":"bench.count","n":N}`` (so "answer received" means "every message before it arrived");
  a ``bench.burst`` control message makes the server send Realtime-shaped events for ``seconds``
  (or ``n`` messages) as fast as the connection takes them, then a ``bench.count``.
- ``?mode=echo``: send every message back unchanged (round-trip latency, two-way load).

Payloads are JSON text frames shaped like Realtime events: small control events (~200 B) and
audio events (``input_audio_buffer.append`` from the client, ``response.output_audio.delta`` from
the server) carrying base64 audio (4 KB frames). In sink mode they form a valid session: the
server sends ``session.created`` first and each burst is one response (``response.created``, its
item and content part, the deltas, ``response.done``). Compression is off on both sides: the figures
are about framing, relaying and recording, not zlib.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

CONTROL_PREFIX = b'{"type":"bench.'
#: The receiver acknowledges every ACK_EVERY messages; a sender keeps at most WINDOW unacknowledged,
#: so a throughput run measures relaying, not how much a proxy can buffer (mitmproxy reads as fast
#: as a peer sends: without a window, a 2-second run queues ~10 s of messages in the proxy).
ACK_EVERY = 128
WINDOW = 1024
WS_OPTS: dict[str, Any] = {"compression": None, "max_size": 64 * 2**20, "ping_interval": None}


# --------------------------------------------------------------------------- payloads


def _b64_audio(nbytes: int, rng: random.Random) -> str:
    """Base64 of PCM16-looking bytes, as long as the caller needs (characters)."""
    raw = rng.randbytes(nbytes * 3 // 4 + 3)
    return base64.b64encode(raw).decode("ascii")[:nbytes]


def client_event(size: int, i: int, rng: random.Random | None = None) -> bytes:
    """A client → server event of exactly ``size`` bytes (≥ 120)."""
    rng = rng or random.Random(i)
    if size >= 1024:
        head = f'{{"type":"input_audio_buffer.append","event_id":"evt_{i:012d}","audio":"'
        return _exact(head, size, rng, audio=True)
    head = f'{{"type":"conversation.item.retrieve","event_id":"evt_{i:012d}","item_id":"item_'
    return _exact(head, size, rng, audio=False)


def server_event(
    size: int, i: int, rng: random.Random | None = None, response: str = "resp_BENCH"
) -> bytes:
    """A server → client event of exactly ``size`` bytes (≥ 200), a delta of ``response``."""
    rng = rng or random.Random(i)
    ids = f'"response_id":"{response}","item_id":"item_{response}","output_index":0,'
    if size >= 1024:
        head = (
            f'{{"type":"response.output_audio.delta","event_id":"event_{i:012d}",{ids}'
            '"content_index":0,"delta":"'
        )
        return _exact(head, size, rng, audio=True)
    head = (
        f'{{"type":"response.output_audio_transcript.delta","event_id":"event_{i:012d}",{ids}'
        '"content_index":0,"delta":"'
    )
    return _exact(head, size, rng, audio=False)


#: What a Realtime server sends first (sink mode): the deltas and appends that follow belong to a
#: valid session, as in real traffic, so a recorder's live analysis takes the path real traffic
#: takes (deltas of an unknown response would be a protocol violation on every message).
SESSION_CREATED = orjson.dumps(
    {
        "type": "session.created",
        "event_id": "event_BENCH",
        "session": {"id": "sess_BENCH", "object": "realtime.session", "type": "realtime"},
    }
)


def response_events(response: str) -> tuple[list[bytes], bytes]:
    """The events that open ``response`` (before its deltas) and the one that ends it."""
    item = f"item_{response}"
    ids = {"response_id": response, "item_id": item, "output_index": 0, "content_index": 0}
    opening = [
        {
            "type": "response.created",
            "event_id": f"event_{response}_0",
            "response": {"id": response, "object": "realtime.response", "status": "in_progress"},
        },
        {
            "type": "response.output_item.added",
            "event_id": f"event_{response}_1",
            "response_id": response,
            "output_index": 0,
            "item": {"id": item, "type": "message", "role": "assistant", "content": []},
        },
        {
            "type": "response.content_part.added",
            "event_id": f"event_{response}_2",
            **ids,
            "part": {"type": "audio", "transcript": ""},
        },
    ]
    done = {
        "type": "response.done",
        "event_id": f"event_{response}_3",
        "response": {"id": response, "object": "realtime.response", "status": "completed"},
    }
    return [orjson.dumps(e) for e in opening], orjson.dumps(done)


def _exact(head: str, size: int, rng: random.Random, *, audio: bool) -> bytes:
    tail = '"}'
    room = size - len(head) - len(tail)
    if room < 1:
        raise ValueError(f"size {size} too small for {head[:40]}…")
    if audio:
        body = _b64_audio(room, rng)
    else:
        words = "hello there how can I help you today with your order number "
        body = (words * (room // len(words) + 1))[:room]
    out = (head + body + tail).encode()
    assert len(out) == size, (len(out), size)
    return out


def control(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": f"bench.{kind}", **fields})


# --------------------------------------------------------------------------- server


async def _handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/"
    echo = "mode=echo" in path
    count = 0
    bursts = 0
    try:
        if not echo:
            await ws.send(SESSION_CREATED, text=True)
        while True:
            msg = await ws.recv(decode=False)
            if echo:
                await ws.send(msg, text=True)
                continue
            if msg.startswith(CONTROL_PREFIX):
                cmd = orjson.loads(msg)
                if cmd["type"] == "bench.mark":
                    await ws.send(control("count", n=count), text=True)
                    count = 0
                elif cmd["type"] == "bench.burst":
                    bursts += 1
                    sent = await _burst(
                        ws,
                        int(cmd["size"]),
                        cmd.get("n"),
                        cmd.get("seconds"),
                        cmd.get("window"),
                        f"resp_BENCH{bursts}",
                    )
                    await ws.send(control("count", n=sent), text=True)
                continue
            count += 1
            if not count % ACK_EVERY:
                await ws.send(control("ack", n=count), text=True)
    except websockets.ConnectionClosed:
        return


async def _burst(
    ws: ServerConnection,
    size: int,
    n: int | None,
    seconds: float | None,
    window: int | None,
    response: str = "resp_BENCH",
) -> int:
    """Send one response's events: its opening events, deltas, ``response.done`` (all counted);
    with ``window``, never more than that many unacknowledged by the client."""
    frames = [server_event(size, i, response=response) for i in range(64)]
    opening, done = response_events(response)
    for event in opening:
        await ws.send(event, text=True)
    sent = len(opening)
    deadline = time.monotonic() + seconds if seconds else None
    limit = n if n is not None else 1 << 62
    credit = _Credit(ws) if window else None
    try:
        while sent < limit:
            if credit is not None and window is not None and sent - credit.acked >= window:
                await credit.wait()
                continue
            await ws.send(frames[sent & 63], text=True)
            sent += 1
            if deadline is not None and not sent & 127 and time.monotonic() >= deadline:
                break
    finally:
        if credit is not None:
            await credit.close()
    await ws.send(done, text=True)
    return sent + 1


class _Credit:
    """Reads ``bench.ack`` messages in a task; ``acked`` is the peer's latest count."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.acked = 0
        self._event = asyncio.Event()
        self.final: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            msg = await self.ws.recv(decode=False)
            if msg.startswith(b'{"type":"bench.ack"'):
                self.acked = int(orjson.loads(msg)["n"])
                self._event.set()
            elif msg.startswith(b'{"type":"bench.count"'):
                self.final.set_result(int(orjson.loads(msg)["n"]))
                return

    async def wait(self) -> None:
        self._event.clear()
        await self._event.wait()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await self._task


async def run_server(host: str, port: int) -> None:
    async with serve(_handler, host, port, **WS_OPTS) as server:
        print(f"listening {host}:{port}", flush=True)
        await server.serve_forever()


# --------------------------------------------------------------------------- clients


@dataclass
class Throughput:
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


async def _await_count(ws: Any) -> int:
    while True:
        msg = await ws.recv(decode=False)
        if msg.startswith(b'{"type":"bench.count"'):
            return int(orjson.loads(msg)["n"])


async def client_to_server(url: str, size: int, seconds: float) -> Throughput:
    """Send ``size``-byte client events as fast as possible for ``seconds``; msg/s that arrived."""
    frames = [client_event(size, i) for i in range(64)]
    async with connect(url + "&mode=sink" if "?" in url else url + "?mode=sink", **WS_OPTS) as ws:
        # warm-up: the first messages pay for connection set-up in the proxy
        for i in range(200):
            await ws.send(frames[i & 63], text=True)
        await ws.send(control("mark"), text=True)
        await _await_count(ws)
        sent = 0
        credit = _Credit(ws)
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while True:
            if sent - credit.acked >= WINDOW:
                await credit.wait()
                continue
            await ws.send(frames[sent & 63], text=True)
            sent += 1
            if not sent & 63 and time.perf_counter() >= deadline:
                break
        await ws.send(control("mark"), text=True)
        got = await credit.final
        elapsed = time.perf_counter() - t0
    if got != sent:
        raise RuntimeError(f"sink counted {got} of {sent} messages")
    return Throughput(sent, elapsed)


async def server_to_client(url: str, size: int, seconds: float) -> Throughput:
    """Have the server burst ``size``-byte server events for ``seconds``; msg/s received."""
    async with connect(url + "&mode=sink" if "?" in url else url + "?mode=sink", **WS_OPTS) as ws:
        await ws.send(control("burst", size=size, n=200), text=True)
        await _await_count(ws)
        t0 = time.perf_counter()
        await ws.send(control("burst", size=size, seconds=seconds, window=WINDOW), text=True)
        received = 0
        while True:
            msg = await ws.recv(decode=False)
            if msg.startswith(b'{"type":"bench.count"'):
                expected = int(orjson.loads(msg)["n"])
                break
            received += 1
            if not received % ACK_EVERY:
                await ws.send(control("ack", n=received), text=True)
        elapsed = time.perf_counter() - t0
    if received != expected:
        raise RuntimeError(f"received {received} of {expected} messages")
    return Throughput(received, elapsed)


@dataclass
class Latency:
    rtts: list[float] = field(default_factory=list)  # seconds
    late_sends: int = 0


async def round_trips(url: str, size: int, rate: float, count: int) -> Latency:
    """Send ``count`` events at ``rate`` msg/s (monotonic schedule) to the echo; record each RTT."""
    frames = [client_event(size, i) for i in range(64)]
    out = Latency()
    period = 1.0 / rate
    async with connect(url + "&mode=echo" if "?" in url else url + "?mode=echo", **WS_OPTS) as ws:
        for i in range(20):  # warm-up round trips, not recorded
            await ws.send(frames[i & 63], text=True)
            await ws.recv(decode=False)
        start = time.perf_counter()
        for i in range(count):
            due = start + i * period
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1e-3:
                out.late_sends += 1  # more than 1 ms behind: the previous answer came late
            t0 = time.perf_counter()
            await ws.send(frames[i & 63], text=True)
            await ws.recv(decode=False)
            out.rtts.append(time.perf_counter() - t0)
    return out


@dataclass
class Sessions:
    sent: int
    received: int
    seconds: float
    behind_max: float  # worst lateness of a scheduled send, seconds


async def concurrent_sessions(
    url: str, sessions: int, rate: float, seconds: float, size: int
) -> Sessions:
    """``sessions`` echo connections, each sending ``rate`` msg/s of ``size`` bytes for ``seconds``.

    Every message crosses the proxy twice (there and back), like audio in and audio out of a
    voice session.
    """
    frames = [client_event(size, i) for i in range(64)]
    echo_url = url + "&mode=echo" if "?" in url else url + "?mode=echo"
    totals = {"sent": 0, "received": 0}
    behind = [0.0]

    async def one(k: int, start: float) -> None:
        async with connect(echo_url, **WS_OPTS) as ws:
            n = int(seconds * rate)
            period = 1.0 / rate
            offset = (k / sessions) * period  # spread sessions over the period

            async def reader() -> None:
                for _ in range(n):
                    await ws.recv(decode=False)
                    totals["received"] += 1

            task = asyncio.create_task(reader())
            for i in range(n):
                due = start + offset + i * period
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    behind[0] = max(behind[0], -delay)
                await ws.send(frames[i & 63], text=True)
                totals["sent"] += 1
            await asyncio.wait_for(task, timeout=30 + seconds)

    start = time.perf_counter() + 0.5
    await asyncio.gather(*(one(k, start) for k in range(sessions)))
    elapsed = time.perf_counter() - start
    return Sessions(totals["sent"], totals["received"], elapsed, behind[0])


async def one_connection_load(
    url: str, size: int, messages: int, on_progress: Any = None, chunk: int = 2000
) -> int:
    """Carry ``messages`` events over ONE connection, half each way, in chunks (memory bench)."""
    frames = [client_event(size, i) for i in range(64)]
    done = 0
    async with connect(url + "&mode=sink" if "?" in url else url + "?mode=sink", **WS_OPTS) as ws:
        while done < messages:
            n = min(chunk, messages - done)
            up = n // 2
            for i in range(up):
                await ws.send(frames[i & 63], text=True)
            await ws.send(control("mark"), text=True)
            await _await_count(ws)
            await ws.send(control("burst", size=size, n=n - up), text=True)
            await _await_count(ws)
            done += n
            if on_progress is not None:
                on_progress(done)
    return done


async def burst(url: str, size: int, messages: int) -> Throughput:
    """The server sends ``messages`` events as fast as it can; the client reads them all."""
    async with connect(url + "&mode=sink" if "?" in url else url + "?mode=sink", **WS_OPTS) as ws:
        t0 = time.perf_counter()
        await ws.send(control("burst", size=size, n=messages), text=True)
        n = await _await_count(ws)
        return Throughput(n, time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    srv = sub.add_parser("server", help="run the sink/echo/burst server")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.cmd == "server":
        try:
            asyncio.run(run_server(args.host, args.port))
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
