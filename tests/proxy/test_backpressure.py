"""Backpressure: a peer that bursts faster than the proxy relays is held back, not queued in memory.

The end-to-end tests run the real embedded mitmproxy (RecordProxy) between real ``websockets``
peers on 127.0.0.1 and read the proxy's own measure of its backlog (bytes read from a connection
and queued in paused layers, not yet relayed): with a limit it stays under the limit plus one read
(64 KiB); without one (the same measure, a limit too large to reach) it grows with the burst.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from rtscope.errors import InputError
from rtscope.proxy import backpressure as bp
from rtscope.proxy.backpressure import (
    EVENT_COST,
    Backlog,
    BacklogQueue,
    HandlerMeter,
    RecordingBackpressure,
    event_cost,
    incompatibility,
)
from rtscope.proxy.master import BACKLOG_ENV, backlog_limit

from .conftest import StartProxy, only_capture, records
from .realtime_server import RealtimeServer

LIMIT = 256 * 1024
#: The read loop checks its backlog after handing over each chunk (≤ 65 535 bytes): that much may
#: come on top of the limit.
BOUND = LIMIT + 65_535 + 2 * EVENT_COST
PAD = "x" * 4000
#: Generous: these finish in seconds; a deadlock would hang forever.
DEADLINE = 120
#: What ``rtscope addon-path`` prints: the file ``mitmdump -s`` loads.
SCRIPT = Path(bp.__file__).with_name("script.py")


# --------------------------------------------------------------------------- the pure parts


class _Data:
    def __init__(self, connection: object, data: bytes) -> None:
        self.connection = connection
        self.data = data


def test_an_event_costs_its_payload_plus_a_fixed_overhead() -> None:
    assert event_cost(_Data("c", b"x" * 1000)) == 1000 + EVENT_COST
    assert event_cost(object()) == EVENT_COST


async def test_backlog_pauses_above_high_and_resumes_only_at_low() -> None:
    b = Backlog(high=1000, low=400)
    b.add(900)
    assert b.ready.is_set()
    b.add(200)  # 1100 > high
    assert not b.ready.is_set()
    b.remove(500)  # 600: under high, still above low
    assert not b.ready.is_set()
    b.remove(200)  # 400 = low
    assert b.ready.is_set()
    assert (b.queued, b.peak, b.drained) == (400, 1100, 2)


async def test_a_waiting_reader_is_woken_by_the_drain_that_reaches_low() -> None:
    b = Backlog(high=100, low=0)
    b.add(150)
    waiter = asyncio.create_task(b.wait(stall=30))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    b.remove(100)
    await asyncio.sleep(0)
    assert not waiter.done()  # 50 > low
    b.remove(50)
    assert await asyncio.wait_for(waiter, 1) is True
    assert b.pauses == 1


async def test_a_backlog_that_stops_draining_gives_up_its_limit() -> None:
    b = Backlog(high=100, low=0)
    b.add(150)
    assert await b.wait(stall=0.05) is False
    assert b.unlimited and b.ready.is_set()
    b.add(1000)
    assert b.ready.is_set()  # no limit any more for this connection


async def test_a_backlog_that_drains_slowly_is_waited_for() -> None:
    b = Backlog(high=100, low=0)
    for _ in range(5):
        b.add(40)

    async def drain_slowly() -> None:
        for _ in range(5):
            await asyncio.sleep(0.03)
            b.remove(40)

    drainer = asyncio.create_task(drain_slowly())
    assert await b.wait(stall=0.05) is True  # each 0.05 s window saw progress
    await drainer
    assert not b.unlimited


def test_measure_only_backlog_never_pauses() -> None:
    b = Backlog(high=None, low=0)
    b.add(10**9)
    assert b.ready.is_set() and b.peak == 10**9


def test_backlog_queue_charges_each_source_connection_and_keeps_order() -> None:
    meter = HandlerMeter(high=10_000, low=0)
    a1, b1, a2 = _Data("a", b"1" * 100), _Data("b", b"2" * 300), _Data("a", b"3" * 50)
    queue = BacklogQueue([a1], meter)
    queue.append(b1)
    queue.extend([a2])
    assert meter.backlog("a").queued == 150 + 2 * EVENT_COST
    assert meter.backlog("b").queued == 300 + EVENT_COST
    assert [queue.popleft(), queue.popleft()] == [a1, b1]
    assert meter.backlog("b").queued == 0
    queue.clear()
    assert meter.backlog("a").queued == 0 and not queue
    assert isinstance(queue, collections.deque)


def test_every_mutator_keeps_the_count_exact() -> None:
    meter = HandlerMeter(high=None, low=0)
    queue = BacklogQueue([], meter)
    items = [_Data("a", b"x" * n) for n in (1, 2, 3, 4)]
    queue.appendleft(items[0])
    queue.extendleft(items[1:3])
    queue.append(items[3])
    queue.remove(items[1])
    queue.pop()
    assert meter.backlog("a").queued == sum(event_cost(i) for i in queue)


def test_the_installed_mitmproxy_takes_the_patch() -> None:
    assert incompatibility() is None


@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        (None, {}, bp.DEFAULT_HIGH),
        (None, {BACKLOG_ENV: "0"}, 0),
        (None, {BACKLOG_ENV: "4096"}, 4096),
    ]
    + [(123, {BACKLOG_ENV: "4096"}, 123), (0, {}, 0)],
)
def test_backlog_limit_comes_from_config_then_environment(
    configured: int | None, env: dict[str, str], expected: int
) -> None:
    assert backlog_limit(configured, env) == expected


@pytest.mark.parametrize("text", ["lots", "-1"])
def test_a_bad_backlog_environment_value_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match=BACKLOG_ENV):
        backlog_limit(None, {BACKLOG_ENV: text})


# --------------------------------------------------------------------------- end to end


def _url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/v1/realtime?model=m"


async def _server_burst(port: int, count: int) -> list[int]:
    """The server sends ``count`` ~4 KB audio deltas as fast as it can; the client reads them."""
    got: list[int] = []
    async with websockets.connect(_url(port), max_size=2**24) as ws:
        await ws.recv()  # session.created
        await ws.send(f"stream:{count}:0")
        while len(got) < count:
            got.append(json.loads(await ws.recv())["n"])
    return got


async def test_a_server_burst_is_held_to_the_limit_and_arrives_in_order(
    start_proxy: StartProxy, tmp_path: Path
) -> None:
    proxy, port = await start_proxy(backlog=LIMIT)
    async with asyncio.timeout(DEADLINE):
        got = await _server_burst(port, 2000)
    assert got == list(range(2000))
    assert proxy.backpressure is not None
    assert proxy.backpressure.pauses > 0  # the limit was reached and the reader waited
    assert proxy.backpressure.peak <= BOUND
    await proxy.stop()
    deltas = [r for r in records(only_capture(tmp_path / "captures")) if r["kind"] == "msg"]
    assert [r["event"]["n"] for r in deltas if r["from"] == "server" and "n" in r["event"]] == got


async def test_without_a_limit_the_same_burst_piles_up_in_the_proxy(
    start_proxy: StartProxy,
) -> None:
    """The control experiment: same measure, a limit it cannot reach (what mitmproxy does)."""
    proxy, port = await start_proxy(backlog=2**40)
    async with asyncio.timeout(DEADLINE):
        got = await _server_burst(port, 2000)
    assert got == list(range(2000))
    assert proxy.backpressure is not None
    assert proxy.backpressure.pauses == 0
    assert proxy.backpressure.peak > 4 * BOUND


async def test_a_client_burst_is_held_back_while_server_messages_keep_flowing(
    start_proxy: StartProxy, realtime_server: RealtimeServer
) -> None:
    """The client sends 4 KB echo requests as fast as it can and reads in another task; the
    server echoes each one (one task: it stops reading while its send is blocked, the case that
    deadlocked a read loop waiting on mitmproxy's shared drain lock) and streams deltas meanwhile.
    """
    proxy, port = await start_proxy(backlog=LIMIT)
    count, deltas = 1500, 100
    echoes: list[str] = []
    stream: list[int] = []
    order: list[str] = []
    async with asyncio.timeout(DEADLINE), websockets.connect(_url(port), max_size=2**24) as ws:
        await ws.recv()  # session.created
        await ws.send(f"stream:{deltas}:5")

        async def read() -> None:
            while len(echoes) < count or len(stream) < deltas:
                message = await ws.recv()
                assert isinstance(message, str)
                if message.startswith("echo:"):
                    echoes.append(message)
                    order.append("echo")
                else:
                    stream.append(json.loads(message)["n"])
                    order.append("delta")

        reader = asyncio.create_task(read())
        for i in range(count):
            await ws.send(f"echo:{i:06d}:{PAD}")
        await reader
    assert echoes == [f"echo:{i:06d}:{PAD}" for i in range(count)]
    assert stream == list(range(deltas))
    assert proxy.backpressure is not None
    assert proxy.backpressure.pauses > 0
    assert proxy.backpressure.peak <= BOUND
    # Server messages were relayed during the client's burst, not after it.
    assert order.index("delta") < len(order) - 1 - order[::-1].index("echo")
    assert realtime_server.connections[0].received[1:] == echoes


async def test_both_peers_bursting_at_once_do_not_deadlock(
    start_proxy: StartProxy, realtime_server: RealtimeServer
) -> None:
    """The server streams deltas as fast as it can while the client bursts echo requests that the
    server's single loop answers: both directions are pushed back at the same time, and the server
    stops reading whenever its send is blocked."""
    proxy, port = await start_proxy(backlog=LIMIT)
    # 6 000 × 4 KB each way: more than the loopback socket buffers hold. With mitmproxy's own
    # drain (every writer, under one lock) after the backlog wait, this run hung (checked by hand,
    # 14:09 UTC 2026-11-21: the server's loop blocked in send, the client's read loop holding the
    # drain lock while waiting for the server to read); with 3 000 it still got through.
    count = deltas = 6000
    echoes = 0
    stream: list[int] = []
    async with asyncio.timeout(DEADLINE), websockets.connect(_url(port), max_size=2**24) as ws:
        await ws.recv()
        await ws.send(f"stream:{deltas}:0")

        async def read() -> None:
            nonlocal echoes
            while echoes < count or len(stream) < deltas:
                message = await ws.recv()
                assert isinstance(message, str)
                if message.startswith("echo:"):
                    assert message.startswith(f"echo:{echoes:06d}:")
                    echoes += 1
                else:
                    stream.append(json.loads(message)["n"])

        reader = asyncio.create_task(read())
        for i in range(count):
            await ws.send(f"echo:{i:06d}:{PAD}")
        await reader
    assert echoes == count
    assert stream == list(range(deltas))
    assert proxy.backpressure is not None
    assert proxy.backpressure.peak <= BOUND


async def test_an_incompatible_mitmproxy_gets_no_patch_and_one_line(
    start_proxy: StartProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bp, "incompatibility", lambda: "mitmproxy internals differ (read loop)")
    err = io.StringIO()
    proxy, port = await start_proxy(backlog=LIMIT, err=err)
    for _ in range(2):
        async with asyncio.timeout(DEADLINE):
            assert await _server_burst(port, 50) == list(range(50))
    assert proxy.backpressure is not None
    assert proxy.backpressure.handlers == 0
    lines = [line for line in err.getvalue().splitlines() if "backpressure" in line]
    assert lines == ["rtscope: no backpressure: mitmproxy internals differ (read loop)"]


async def test_each_connection_gets_its_own_handler_patch(start_proxy: StartProxy) -> None:
    proxy, port = await start_proxy(backlog=LIMIT)

    async def one() -> Any:
        async with websockets.connect(_url(port)) as ws:
            await ws.recv()
            await ws.send("echo:x")
            return await ws.recv()

    async with asyncio.timeout(DEADLINE):
        assert await asyncio.gather(one(), one(), one()) == ["echo:x"] * 3
    assert proxy.backpressure is not None
    assert proxy.backpressure.handlers == 3


# --------------------------------------------------------------------------- mitmdump -s

#: mitmdump's proxyauth addon imports ldap3, which uses a deprecated pyasn1 name (not ours).
dump_master = pytest.mark.filterwarnings("ignore::DeprecationWarning:ldap3.*")


@contextlib.asynccontextmanager
async def _mitmdump(
    upstream: str, out: Path, confdir: Path, **settings: Any
) -> AsyncIterator[tuple[Any, int]]:
    """A stock mitmdump master in this process with the real ``rtscope addon-path`` script loaded
    (mitmproxy's own ``scripts`` option): ``(the script's RecordingBackpressure, port)``."""
    from mitmproxy import options
    from mitmproxy.tools.dump import DumpMaster

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    opts = options.Options(
        listen_host="127.0.0.1",
        listen_port=port,
        mode=[f"reverse:{upstream}"],
        confdir=str(confdir),
    )
    master = DumpMaster(opts, with_termlog=False, with_dumper=False)
    master.options.update(scripts=[str(SCRIPT)])
    # The script's options exist once mitmproxy has loaded it: set them the way mitmdump's --set
    # does (deferred until an addon registers them).
    sets = {"rtscope_dir": str(out), "rtscope_quiet": "true", **settings}
    master.options.set(*(f"{k}={v}" for k, v in sets.items()), defer=True)
    task = asyncio.create_task(master.run())
    try:
        found = None
        for _ in range(500):  # until the script is loaded and the proxy listens
            found = master.addons.get("recordingbackpressure")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            if found is not None:
                break
            await asyncio.sleep(0.02)
        assert isinstance(found, RecordingBackpressure)
        assert master.options.rtscope_dir == str(out)
        yield found, port
    finally:
        await master.addons.get("proxyserver").servers.update([])  # mitmproxy leaves it open
        master.shutdown()
        await asyncio.wait_for(task, DEADLINE)


@dump_master
async def test_mitmdump_script_holds_a_server_burst_to_its_limit_and_records_it_all(
    realtime_server: RealtimeServer, tmp_path: Path, confdir: Path
) -> None:
    out = tmp_path / "captures"
    async with _mitmdump(realtime_server.url, out, confdir, rtscope_backlog=LIMIT) as (bp_, port):
        async with asyncio.timeout(DEADLINE):
            got = await _server_burst(port, 2000)
        assert got == list(range(2000))
        assert bp_.handlers == 1
        assert bp_.pauses > 0  # the limit was reached and mitmdump's read loop waited
        assert bp_.peak <= BOUND
        await realtime_server.connections[0].closed.wait()
        await asyncio.sleep(0.3)  # websocket_end, the capture's close record
    deltas = [r for r in records(only_capture(out)) if r["kind"] == "msg" and r["from"] == "server"]
    assert [r["event"]["n"] for r in deltas if "n" in r["event"]] == got


@dump_master
async def test_mitmdump_script_with_a_limit_it_cannot_reach_lets_the_burst_pile_up(
    realtime_server: RealtimeServer, tmp_path: Path, confdir: Path
) -> None:
    """The control experiment: the same measure in stock mitmdump, no pause (mitmproxy's way)."""
    out = tmp_path / "captures"
    async with _mitmdump(realtime_server.url, out, confdir, rtscope_backlog=2**40) as (bp_, port):
        async with asyncio.timeout(DEADLINE):
            assert await _server_burst(port, 2000) == list(range(2000))
        assert bp_.handlers == 1
        assert bp_.pauses == 0
        assert bp_.peak > 4 * BOUND


@dump_master
async def test_mitmdump_script_patches_only_connections_that_carry_a_websocket(
    realtime_server: RealtimeServer, tmp_path: Path, confdir: Path
) -> None:
    out = tmp_path / "captures"
    async with _mitmdump(realtime_server.url, out, confdir) as (bp_, port):
        assert bp_.high == bp.DEFAULT_HIGH  # the option's default
        async with asyncio.timeout(DEADLINE):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status = await reader.readline()
            await reader.read()
            writer.close()
            await writer.wait_closed()
        assert status.startswith(b"HTTP/1.1 ")  # relayed: the server's answer to plain HTTP
        assert bp_.handlers == 0
        async with asyncio.timeout(DEADLINE):
            assert await _server_burst(port, 10) == list(range(10))
        assert bp_.handlers == 1


@dump_master
async def test_mitmdump_script_backlog_zero_turns_it_off(
    realtime_server: RealtimeServer, tmp_path: Path, confdir: Path
) -> None:
    out = tmp_path / "captures"
    async with _mitmdump(realtime_server.url, out, confdir, rtscope_backlog=0) as (bp_, port):
        async with asyncio.timeout(DEADLINE):
            assert await _server_burst(port, 500) == list(range(500))
        assert bp_.handlers == 0


@dump_master
async def test_mitmdump_script_refuses_a_negative_backlog(
    realtime_server: RealtimeServer, tmp_path: Path, confdir: Path
) -> None:
    from mitmproxy.exceptions import OptionsError

    out = tmp_path / "captures"
    async with _mitmdump(realtime_server.url, out, confdir) as (bp_, _):
        with pytest.raises(OptionsError, match="rtscope_backlog must be 0"):
            bp_._master().options.update(rtscope_backlog=-1)
        assert bp_.high == bp.DEFAULT_HIGH
