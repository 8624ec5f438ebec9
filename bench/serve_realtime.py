"""Target 5 (serve): many clients playing a voice session against ``rtscope serve`` at real time.

``rtscope serve CAPTURE`` (speed 1) serves a synthetic one-connection voice session
(``synth.session_capture``: ``--seconds`` of session time, ~70 % audio bytes). ``--clients``
clients connect at once; each sends the recorded client messages at their recorded offsets (like
an app streaming its microphone) and times every server message it receives against the offset
recorded for it. A message's lateness = (arrival − connection open) − (recorded t − recorded
open). Client sends are timed too, so a late client (this process is one of three busy ones on a
2-CPU machine) is not blamed on the server, and the client process's own event-loop lag is
sampled every 5 ms (a stall there delays receipts as much as a stall of the server). The replay
part's ``serve_concurrency.py`` measures throughput at ``--speed 10``; this script measures the
schedule.

Target (issue 6): 50 concurrent clients playing a 5-minute session at real time, no client more
than 50 ms behind schedule.

    python bench/serve_realtime.py [--clients 50] [--seconds 60] [--full (300 s)] [--quick]
                                   [--play SECONDS] [--setup] [--stagger MS]

By default the clients start together and stay in step: each server message is due for all 50
at the same instant, the harshest case (the last of 50 sends goes out ~6 ms after the first).
``--stagger MS`` starts client k k×MS later, as real clients arrive.

``--play S`` plays only the first S seconds of the session (the server still loads all of it):
what a connection costs the server depends on the recording's length, not on how long the client
stays, so ``--full --play 20`` shows in 20 s what happens when 50 clients connect to a 5-minute
recording (this is where the 0.7 s stall of the 5-minute runs was: see docs/performance.md).
``--setup`` measures only that, in process and without the network: the CPU time, wall time and
gen-2 garbage-collector passes of setting up ``--clients`` playbacks of the recording the way
``rtscope serve`` does (recording loaded, shared parts built, ``gc.freeze()``), a figure that
machine load barely moves.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import subprocess
import sys
import time
from dataclasses import dataclass, field

import _common as c
import psutil
import synth
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from rtscope.capture.codec import payload_of
from rtscope.capture.reader import CaptureReader

TARGET_MS = 50.0


@dataclass
class Plan:
    client: list[tuple[float, bytes, bool]] = field(default_factory=list)  # offset, payload, text
    server: list[float] = field(default_factory=list)  # offsets of server messages


def load_plan(path: object) -> Plan:
    plan = Plan()
    t_open = None
    for rec in CaptureReader(path):  # type: ignore[arg-type]
        if rec["kind"] == "open":
            t_open = float(rec["t"])
        elif rec["kind"] == "msg" and t_open is not None:
            offset = float(rec["t"]) - t_open
            if rec["from"] == "client":
                data, text = payload_of(rec)
                plan.client.append((offset, data, text))
            else:
                plan.server.append(offset)
    return plan


@dataclass
class Result:
    late: list[float] = field(default_factory=list)  # server message lateness, s
    send_late: list[float] = field(default_factory=list)
    received: int = 0


async def one_client(url: str, plan: Plan, out: Result, delay: float = 0.0) -> None:
    if delay:
        await asyncio.sleep(delay)
    async with connect(url, compression=None, max_size=2**24, ping_interval=None) as ws:
        start = time.perf_counter()

        async def sender() -> None:
            for offset, data, text in plan.client:
                delay = start + offset - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                out.send_late.append(max(0.0, -delay))
                await ws.send(data, text=text)

        task = asyncio.create_task(sender())
        try:
            for offset in plan.server:
                await ws.recv(decode=False)
                out.late.append(time.perf_counter() - start - offset)
                out.received += 1
        finally:
            await task


class _LeanClient(asyncio.Protocol):
    """One client on websockets' own sans-I/O protocol, without its asyncio connection: frames are
    timed in ``data_received`` as they are parsed, and sends go out from timer callbacks. No task
    wakes up per message, so receiving costs this process a fraction of what ``recv()`` costs
    (see ``--client``), and the lateness measured is the server's, not this process's queue."""

    def __init__(self, url: str, plan: Plan, out: Result) -> None:
        self.plan, self.out = plan, out
        self.proto = ClientProtocol(parse_uri(url), max_size=2**24)
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.start = 0.0
        self.next_send = 0

    def _flush(self) -> None:
        if self.transport is not None:
            data = self.proto.data_to_send()
            if data:
                self.transport.write(b"".join(data))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.proto.receive_data(data)
        server = self.plan.server
        for event in self.proto.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    self._fail(RuntimeError(f"handshake refused: {event.status_code}"))
                    return
                self.start = now
                self._schedule_send()
            elif isinstance(event, Frame) and event.fin and event.opcode in _DATA:
                n = self.out.received
                if n < len(server):
                    self.out.late.append(now - self.start - server[n])
                self.out.received = n + 1
        self._flush()
        if self._all_done():
            self._finish()

    def _schedule_send(self) -> None:
        if self.next_send < len(self.plan.client):
            offset = self.plan.client[self.next_send][0]
            self.loop.call_at(self.loop.time() + offset - (time.perf_counter() - self.start),
                              self._send)  # fmt: skip

    def _send(self) -> None:
        if self.done.done():
            return
        offset, data, text = self.plan.client[self.next_send]
        self.out.send_late.append(max(0.0, time.perf_counter() - self.start - offset))
        if text:
            self.proto.send_text(data)
        else:
            self.proto.send_binary(data)
        self._flush()
        self.next_send += 1
        self._schedule_send()
        if self._all_done():
            self._finish()

    def _all_done(self) -> bool:
        return self.out.received >= len(self.plan.server) and self.next_send >= len(
            self.plan.client
        )

    def _finish(self) -> None:
        if not self.done.done():
            self.proto.send_close(1000)
            self._flush()
            assert self.transport is not None
            self.transport.close()
            self.done.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self.transport is not None:
            self.transport.abort()
        if not self.done.done():
            self.done.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("closed before the session's end"))


_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


async def one_lean_client(url: str, plan: Plan, out: Result, delay: float = 0.0) -> None:
    if delay:
        await asyncio.sleep(delay)
    loop = asyncio.get_running_loop()
    uri = parse_uri(url)
    _, client = await loop.create_connection(
        lambda: _LeanClient(url, plan, out), uri.host, uri.port
    )
    await client.done


async def run_clients(
    url: str, plan: Plan, clients: int, stagger: float = 0.0, lean: bool = True
) -> tuple[list[Result], list[float]]:
    """Every client's result, and this process's own event-loop lag samples (s)."""
    results = [Result() for _ in range(clients)]
    lags: list[float] = []
    stop = asyncio.Event()

    async def monitor() -> None:
        # wakes every 5 ms: a late wake-up means THIS process (the clients) stalled
        while not stop.is_set():
            due = time.perf_counter() + 0.005
            await asyncio.sleep(0.005)
            lags.append(max(0.0, time.perf_counter() - due))

    watch = asyncio.create_task(monitor())
    try:
        play = one_lean_client if lean else one_client
        await asyncio.gather(*(play(url, plan, r, k * stagger) for k, r in enumerate(results)))
    finally:
        stop.set()
        await watch
    return results, lags


def late_moments(results: list[Result], plan: Plan, top: int = 3) -> str:
    """The session seconds where most clients were > 50 ms behind, e.g. ``1 s: 41 (785 ms)``.

    Ranked by clients behind, then by the worst lateness in that second (in brackets).

    The clients play in step, so one stall of the server (or of the whole machine) hits every
    client in the same second; a stall at 0 s is the server's connection set-up. Read it with
    the load generator's own loop lag (printed next).
    """
    hit: dict[int, set[int]] = {}
    worst: dict[int, float] = {}
    for k, r in enumerate(results):
        for offset, late in zip(plan.server, r.late, strict=False):
            if late * 1e3 > TARGET_MS:
                sec = int(offset)
                hit.setdefault(sec, set()).add(k)
                worst[sec] = max(worst.get(sec, 0.0), late)
    ranked = sorted(hit, key=lambda sec: (-len(hit[sec]), -worst[sec], sec))[:top]
    return (
        ", ".join(f"{sec} s: {len(hit[sec])} ({worst[sec] * 1e3:.0f} ms)" for sec in ranked)
        or "none"
    )


def per_minute(results: list[Result], plan: Plan) -> str:
    """p99 and max lateness per minute of the session, e.g. ``0-1 min 3.2/41.0 ms``.

    Load from other processes comes and goes; lateness that follows it minute by minute is the
    machine's, a stall of the server's own shows up whatever the load.
    """
    by_minute: dict[int, list[float]] = {}
    for r in results:
        for offset, late in zip(plan.server, r.late, strict=False):
            by_minute.setdefault(int(offset // 60), []).append(late * 1e3)
    return ", ".join(
        f"{m}-{m + 1} min {c.percentile(v, 99):.1f}/{max(v):.1f}"
        for m, v in sorted(by_minute.items())
    )


def setup_cost(path: object, clients: int) -> str:
    """What ``clients`` connections cost ``rtscope serve`` to set up, measured in this process."""
    from rtscope.replay import playback
    from rtscope.replay.recording import load_recording

    recording = load_recording(path)  # type: ignore[arg-type]
    prepare = getattr(playback, "script_of", None)  # absent before the fix: A/B with PYTHONPATH
    if prepare is not None:
        prepare(recording)
    gc.collect()
    gc.freeze()  # as cli/serve.py does
    full_passes: list[float] = []
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            full_passes.append(time.perf_counter() - started[0])

    gc.callbacks.append(on_gc)
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        kept = [playback.Playback(recording, 0.0) for _ in range(clients)]
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        scanned = len(gc.get_objects()) - len(kept)  # what a full pass walks (not the frozen)
    finally:
        gc.callbacks.remove(on_gc)
        gc.unfreeze()
    return (
        f"{clients} connections set up in {cpu * 1e3:.1f} ms of CPU ({wall * 1e3:.1f} ms wall),"
        f" {len(full_passes)} gen-2 GC passes ({sum(full_passes) * 1e3:.1f} ms),"
        f" {scanned:,} objects left for a full GC pass to scan"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60.0, help="session length (real time)")
    p.add_argument("--full", action="store_true", help="a 5-minute session")
    p.add_argument("--quick", action="store_true", help="5 clients, 5 s")
    p.add_argument("--play", type=float, default=None, help="play only the first PLAY seconds")
    p.add_argument("--setup", action="store_true", help="only the connections' set-up cost")
    p.add_argument(
        "--stagger",
        type=float,
        default=0.0,
        help="ms between client starts (default 0: all in step, every send due at once)",
    )
    p.add_argument(
        "--client",
        choices=("lean", "websockets"),
        default="lean",
        help="lean (default): websockets' sans-I/O protocol timed as frames are parsed; websockets:"
        " its asyncio client, one recv() per message (this process then costs more per message"
        " than the server and its queue shows up as lateness)",
    )
    args = p.parse_args(argv)
    if args.full:
        args.seconds = 300.0
    if args.quick:
        args.clients, args.seconds = 5, 5.0
    path = synth.session_capture(args.seconds)
    plan = load_plan(path)
    duration = max(plan.server[-1], plan.client[-1][0])
    played = ""
    if args.play is not None:
        # causal: a server message's block is released by a client message recorded before it
        plan.client = [m for m in plan.client if m[0] <= args.play]
        plan.server = [t for t in plan.server if t <= args.play]
        played = f", the first {args.play:g} s played"
    c.banner(
        f"rtscope serve at real time: {args.clients} clients × a {duration:.0f} s voice session"
        f"{played} ({len(plan.client)} client, {len(plan.server)} server messages each)"
        f"{f', started {args.stagger:g} ms apart' if args.stagger else ', started together'}"
        " (target 5)"
    )
    if args.setup:
        print(f"   {setup_cost(path, args.clients)} · {c.load()}")
        return 0
    with c.workdir() as work:
        port = c.free_port()
        argv_ = [str(c.BIN / "rtscope"), "serve", str(path), "--listen", f"{c.HOST}:{port}"]
        try:
            server = c.spawn("serve", argv_, port, work)
        except RuntimeError as exc:
            print(f"   rtscope serve: not available ({str(exc).splitlines()[0]})")
            return 0
        try:
            proc = psutil.Process(server.pid)
            cpu0 = c.cpu_seconds(proc)
            t0, gen0 = time.perf_counter(), time.process_time()
            url = f"ws://{c.HOST}:{port}/v1/realtime?model=gpt-realtime"
            results, lags = asyncio.run(
                run_clients(url, plan, args.clients, args.stagger / 1e3, args.client == "lean")
            )
            gen_cpu = time.process_time() - gen0
            wall = time.perf_counter() - t0
            cpu = c.cpu_seconds(proc) - cpu0
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"   FAILED: {exc}\n{server.tail()}")
            return 3
        finally:
            server.stop()
    late_ms = [x * 1e3 for r in results for x in r.late]
    worst = [max(r.late, default=0.0) * 1e3 for r in results]
    send_ms = [x * 1e3 for r in results for x in r.send_late]
    behind = sum(1 for w in worst if w > TARGET_MS)
    complete = sum(1 for r in results if r.received == len(plan.server))
    print(
        f"   server messages behind schedule: p50 {c.percentile(late_ms, 50):.1f} ms,"
        f" p99 {c.percentile(late_ms, 99):.1f} ms, max {max(late_ms, default=0):.1f} ms"
    )
    print(
        f"   worst client: {max(worst, default=0):.1f} ms behind; clients more than"
        f" {TARGET_MS:g} ms behind: {behind}/{args.clients}"
        f" (target 0: {'met' if behind == 0 else 'NOT met'})"
    )
    print(
        f"   seconds of the session with the most clients > {TARGET_MS:g} ms behind (worst):"
        f" {late_moments(results, plan)}"
    )
    print(f"   p99/max ms per minute of the session: {per_minute(results, plan)}")
    lag_ms = [x * 1e3 for x in lags]
    print(
        f"   the load generator: sends p99 {c.percentile(send_ms, 99):.1f} ms,"
        f" max {max(send_ms, default=0):.1f} ms late; its event loop lagged p99"
        f" {c.percentile(lag_ms, 99):.1f} ms, max {max(lag_ms, default=0):.1f} ms"
        " (a stall here delays receipts too)"
    )
    print(
        f"   {complete}/{args.clients} clients got every message; serve used"
        f" {cpu / wall:.0%} of one CPU over {wall:.0f} s, the clients' process ({args.client}"
        f" client) {gen_cpu / wall:.0%} · {c.load()}"
    )
    return 0 if behind == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
