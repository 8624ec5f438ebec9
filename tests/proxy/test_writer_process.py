"""``--writer process``: when its writer process dies (traffic flows, the loss is said), how the
writer reads the hand-off (settling, the poke, read sizes), its scheduling policy."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import websockets

from rtscope.proxy.master import RecordProxy

from .conftest import StartProxy, only_capture, records, writer_processes
from .realtime_server import RealtimeServer


async def _kill_the_writer_mid_session(port: int, proxy: RecordProxy) -> None:
    """A session whose writer process is killed after one round trip, then three more."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()  # session.created
        await ws.send("echo:recorded")
        assert await ws.recv() == "echo:recorded"
        await proxy.recorder.drain()  # the writer has written both
        (writer,) = writer_processes()
        writer.kill()
        writer.wait(5)
        await asyncio.sleep(0.2)  # the proxy sees its answers' pipe close
        for i in range(3):
            await ws.send(f"echo:{i}")
            assert await ws.recv() == f"echo:{i}"


async def _one_session(port: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=later") as ws:
        await ws.recv()
        await ws.send("echo:later")
        assert await ws.recv() == "echo:later"


async def test_when_the_writer_dies_traffic_flows_and_the_loss_is_said_once(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    err = io.StringIO()
    proxy, port = await start_proxy(err=err, writer="process")
    await _kill_the_writer_mid_session(port, proxy)
    await _one_session(port)  # after the writer died: recorded by the proxy itself
    await realtime_server.connections[1].closed.wait()
    await proxy.stop()
    said = err.getvalue()
    assert said.count("the writer process exited") == 1, said
    assert "new connections are recorded by the proxy itself" in said, said
    assert "6 messages were not recorded" in said  # 3 each way, after the writer died
    first, later = sorted((tmp_path / "captures").glob("*.jsonl"), key=lambda p: "later" in p.name)
    assert "later" in later.name
    recs = records(first)
    assert [r["kind"] for r in recs] == ["header", "open", "msg", "msg", "msg"]
    assert recs[-1]["text"] == "echo:recorded"
    recs = records(later)
    assert [r["kind"] for r in recs] == ["header", "open", "msg", "msg", "msg", "close"]
    assert [r.get("text") for r in recs if r["kind"] == "msg"][1:] == ["echo:later", "echo:later"]


async def test_when_the_writer_of_the_one_file_dies_new_connections_are_said_not_recorded(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    err = io.StringIO()
    proxy, port = await start_proxy(err=err, writer="process", single_file="all.jsonl")
    await _kill_the_writer_mid_session(port, proxy)
    await _one_session(port)  # the writer held all.jsonl: not recorded, and counted
    await realtime_server.connections[1].closed.wait()
    await proxy.stop()
    said = err.getvalue()
    assert said.count("the writer process exited") == 1, said
    assert "nor are new connections'" in said, said
    assert "9 messages were not recorded" in said, said  # 6 + the later session's 3
    assert "Traceback" not in said and "handing a message" not in said, said
    (path,) = (tmp_path / "captures").glob("*.jsonl")
    assert path.name == "all.jsonl"
    recs = records(path)
    assert [r["kind"] for r in recs] == ["header", "open", "msg", "msg", "msg"]


async def test_a_writer_that_cannot_start_leaves_the_recording_to_the_proxy(
    start_proxy: StartProxy,
    realtime_server: RealtimeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rtscope.proxy import writer_process

    monkeypatch.setattr(writer_process.sys, "executable", "/bin/false")  # exits at once
    err = io.StringIO()
    proxy, port = await start_proxy(err=err, writer="process")
    assert proxy.recorder.writer == "inline"
    proxy.config.writer = "inline"  # what the fixture checks at the end
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send("echo:recorded")
        assert await ws.recv() == "echo:recorded"
    await realtime_server.connections[0].closed.wait()
    await proxy.stop()
    said = err.getvalue()
    assert "the writer process exited" in said
    # gone before the proxy's first item (the config) or after it: either way it says it records
    # in the proxy itself
    assert "recording in the proxy itself" in said or "(recording inline instead)" in said, said
    recs = records(only_capture(tmp_path / "captures"))
    assert [r["kind"] for r in recs] == ["header", "open", "msg", "msg", "msg", "close"]


def test_the_writer_never_waits_for_the_proxy_to_read_its_answers() -> None:
    """A storm of printed lines while the proxy is not reading (it may be waiting on a full
    hand-off pipe itself): the writer goes on, the excess is counted, summaries still go."""
    from rtscope.proxy.handoff import LineReader
    from rtscope.proxy.writer_process import _Back

    read_fd, write_fd = os.pipe()
    back = _Back(write_fd)
    storm = 3 * _Back.BACKLOG
    for i in range(storm):  # far beyond what the pipe holds: would block a direct write
        back.send({"err": f"[server-error] c1: storm {i} " + "x" * 100})
    back.send({"summary": {"conn": "c1"}})
    answers: list[dict[str, object]] = []
    reader = LineReader()
    closing = threading.Thread(target=back.close)
    closing.start()
    while chunk := os.read(read_fd, 1 << 16):
        answers.extend(reader.feed(chunk))
        if answers and answers[-1] == {"summary": {"conn": "c1"}}:
            break
    closing.join(10)
    os.close(read_fd)
    os.close(write_fd)
    errs = [a["err"] for a in answers if "err" in a]
    assert _Back.BACKLOG <= len(errs) < storm
    assert errs[0].startswith("[server-error] c1: storm 0 ")
    dropped = storm - (len(errs) - 1)
    assert (
        errs[-1] == f"rtscope: {dropped} lines of the writer process were not printed "
        "(the proxy was not reading)"
    )
    assert answers[-1] == {"summary": {"conn": "c1"}}


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="no scheduling policies here")
async def test_the_writer_runs_under_sched_batch_so_its_wake_ups_never_preempt(
    start_proxy: StartProxy,
) -> None:
    proxy, _port = await start_proxy(writer="process")
    (writer,) = writer_processes()
    assert os.sched_getscheduler(writer.pid) == os.SCHED_BATCH
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the proxy keeps the default
    await proxy.stop()


class Pipes:
    """``os.pipe()`` for a test; the ends it has not closed are closed after it."""

    def __init__(self) -> None:
        self.open: set[int] = set()

    def __call__(self) -> tuple[int, int]:
        r, w = os.pipe()
        self.open |= {r, w}
        return r, w

    def close(self, fd: int) -> None:
        self.open.discard(fd)
        os.close(fd)


@pytest.fixture
def pipe() -> Iterator[Pipes]:
    pipes = Pipes()
    yield pipes
    for fd in pipes.open:
        os.close(fd)


async def closing_ends_the_stream(chunks: AsyncIterator[bytes], pipe: Pipes, write_fd: int) -> None:
    """The proxy's end of the hand-off closes: the writer's stream of chunks ends."""
    pipe.close(write_fd)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(chunks), 5)


async def test_the_hand_off_is_read_a_settle_time_after_it_wakes_the_writer_then_all_at_once(
    pipe: Pipes,
) -> None:
    """The writer's input: woken by the first bytes, it stops listening, waits ``settle``,
    reads everything that came meanwhile in one go, and listens again. Everything arrives, in
    order, and the stream ends when the proxy's end closes."""
    from rtscope.proxy.writer_process import handed_over

    settle = 0.2
    read_fd, write_fd = pipe()
    chunks = handed_over(read_fd, settle=settle)
    loop = asyncio.get_running_loop()

    def listening() -> bool:  # asyncio's selector loop: is anyone waiting for read_fd?
        return read_fd in loop._selector.get_map()  # type: ignore[attr-defined]

    try:
        pending = asyncio.ensure_future(anext(chunks))
        await asyncio.sleep(0.01)
        assert listening()
        os.write(write_fd, b"one")
        woken = loop.time()
        await asyncio.sleep(0.01)
        assert not listening()  # waiting out `settle`
        os.write(write_fd, b"two")
        assert await asyncio.wait_for(pending, 5) == b"onetwo"  # one read for both
        assert loop.time() - woken >= settle
        pending = asyncio.ensure_future(anext(chunks))
        await asyncio.sleep(0.01)
        assert listening()  # after the read, listening again
        os.write(write_fd, b"three")
        assert await asyncio.wait_for(pending, 5) == b"three"
        await closing_ends_the_stream(chunks, pipe, write_fd)
    finally:
        await chunks.aclose()


async def test_a_poke_ends_the_settle_time_at_once(pipe: Pipes) -> None:
    """The proxy pokes after an item it waits on (a connection's start, drain, stop): the writer
    reads it now, not ``settle`` later."""
    from rtscope.proxy.writer_process import handed_over

    read_fd, write_fd = pipe()
    poke_r, poke_w = pipe()
    chunks = handed_over(read_fd, settle=30.0, poke=poke_r)
    try:
        pending = asyncio.ensure_future(anext(chunks))
        await asyncio.sleep(0.01)
        os.write(write_fd, b"sync")
        await asyncio.sleep(0.01)  # settling now
        os.write(poke_w, b"!")
        assert await asyncio.wait_for(pending, 5) == b"sync"
        pending = asyncio.ensure_future(anext(chunks))
        await asyncio.sleep(0.01)  # listening again
        os.write(write_fd, b"message")  # the poke was used up: this one settles
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pending), 0.3)
        os.write(poke_w, b"!")
        assert await asyncio.wait_for(pending, 5) == b"message"
        await closing_ends_the_stream(chunks, pipe, write_fd)
    finally:
        await chunks.aclose()


async def test_the_hand_off_is_read_in_pieces_the_heap_takes_back(
    pipe: Pipes,
) -> None:
    """Reads stay below glibc's mmap threshold (128 KiB): 1 MiB reads made the writer's RSS grow
    by ~36 MiB over `make soak`'s minute (freed buffers kept by the allocator)."""
    import fcntl

    from rtscope.proxy.writer_process import PIPE_SIZE, READ_SIZE, handed_over

    assert READ_SIZE < 128 * 1024
    read_fd, write_fd = pipe()
    try:
        fcntl.fcntl(write_fd, 1031, PIPE_SIZE)  # F_SETPIPE_SZ, as the proxy asks
    except OSError:
        pytest.skip("this machine refuses 1 MiB pipes (the writer then reads 64 KiB at most)")
    data = bytes(range(256)) * 1024  # 256 KiB, all in the pipe before the first read
    os.write(write_fd, data)
    pipe.close(write_fd)
    chunks = handed_over(read_fd, settle=0.0)
    got = [chunk async for chunk in chunks]
    assert b"".join(got) == data
    assert max(map(len, got)) <= READ_SIZE
    assert len(got) >= 4


def test_a_smaller_pipe_gets_a_shorter_settle_time() -> None:
    from rtscope.proxy.writer_process import PIPE_SIZE, SETTLE, settle_for

    assert settle_for(PIPE_SIZE) == SETTLE
    assert settle_for(2 * PIPE_SIZE) == SETTLE
    assert settle_for(PIPE_SIZE // 16) == pytest.approx(SETTLE / 16)  # 64 KiB: Linux's default


async def test_the_proxy_pokes_the_writer_after_each_quarter_of_the_pipe_it_hands_over(
    start_proxy: StartProxy,
) -> None:
    """The writer waits out ``SETTLE`` (50 ms) after it is woken; at high rates the proxy pokes it
    every quarter of the pipe, so the pipe does not fill while it waits."""
    import fcntl
    import time

    from rtscope.proxy.handoff import HEADER

    proxy, _ = await start_proxy(writer="process")
    handoff = proxy.recorder._handoff
    assert handoff is not None
    assert handoff.poke_every == fcntl.fcntl(handoff._fd, 1032) // 4  # F_GETPIPE_SZ
    pokes = 0
    poke = handoff._hurry

    def counted() -> None:
        nonlocal pokes
        pokes += 1
        poke()

    handoff._hurry = counted  # type: ignore[method-assign]
    payload = b"x" * 4000
    per_quarter = -(-handoff.poke_every // (len(payload) + HEADER.size))  # messages, rounded up

    def hand_over(messages: int) -> None:
        for _ in range(messages):  # (to no connection: the writer drops them)
            handoff.message(999, time.time(), True, True, payload)

    hand_over(per_quarter - 1)
    assert pokes == 0
    hand_over(1)
    assert pokes == 1
    hand_over(per_quarter + per_quarter // 2)
    assert pokes == 2
    await proxy.recorder.drain()  # the writer read it all
