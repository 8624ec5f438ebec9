"""Fail-open: recorder errors and a full disk never break, drop or delay the proxied traffic."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from rtscope.capture.reader import CaptureReader
from rtscope.proxy import addon

from .conftest import WRITERS, StartProxy, only_capture, records
from .realtime_server import RealtimeServer


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "256k") -> Iterator[Path]:
    """A tiny real filesystem to fill up; skips where mounting is not allowed (non-root CI)."""
    path.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write a filler file until the filesystem is full."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    # Also use up the slack of partly used pages with small writes.
    fd = os.open(directory / "filler2", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0")
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


async def echo(ws: Any, text: str) -> None:
    await ws.send(f"echo:{text}")
    assert await asyncio.wait_for(ws.recv(), 5) == f"echo:{text}"


@pytest.mark.parametrize("writer", WRITERS)
async def test_disk_full_mid_session_traffic_flows_and_gap_is_recorded(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    with small_tmpfs(tmp_path / "small") as small:
        err = io.StringIO()
        proxy, port = await start_proxy(err=err, out=small / "captures")
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
            await ws.recv()
            await echo(ws, "before")
            filler = fill(small)
            for i in range(20):
                await echo(ws, f"during-{i}-" + "y" * 2000)  # traffic keeps flowing
            # the writer process writes up to its settle time (50 ms) later: let it meet the
            # full disk before the disk is freed
            await proxy.recorder.drain()
            os.unlink(filler)
            os.unlink(small / "filler2")
            for i in range(3):
                await echo(ws, f"after-{i}")
        await realtime_server.connections[0].closed.wait()
        await asyncio.sleep(0.3)
        await proxy.recorder.drain()  # the writer process's lines, if it writes
        path = only_capture(small / "captures")
        recs = records(path)
        reader = CaptureReader(path)
        assert len(list(reader)) == len(recs) - 1 and reader.problems == []

    alarms = [line for line in err.getvalue().splitlines() if "RECORDER ERROR" in line]
    assert len(alarms) == 1 and "No space left on device" in alarms[0]
    (gap,) = [r for r in recs if r["kind"] == "incomplete"]
    msgs = [r for r in recs if r["kind"] == "msg"]
    texts = [r.get("text", "") for r in msgs]
    assert texts[:3] == ["echo:before"] * 2 or texts[1:3] == ["echo:before", "echo:before"]
    assert gap["lost"] >= 1 and gap["since"] > 0 and "No space left" in gap["reason"]
    assert texts[-6:] == [f"echo:after-{i}" for i in range(3) for _ in range(2)]
    # Nothing is unaccounted for: recorded + lost = every message that crossed the proxy.
    assert len(msgs) + gap["lost"] == len(realtime_server.connections[0].order)
    seqs = [r["seq"] for r in msgs]
    assert seqs == sorted(seqs) and gap["from_seq"] not in seqs
    assert recs[-1]["kind"] == "close"


@pytest.mark.parametrize("writer", WRITERS)
async def test_disk_that_stays_full_never_hides_the_gap(
    start_proxy: StartProxy, realtime_server: RealtimeServer, tmp_path: Path
) -> None:
    with small_tmpfs(tmp_path / "small") as small:
        err = io.StringIO()
        proxy, port = await start_proxy(err=err, out=small / "captures")
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
            await ws.recv()
            fill(small)
            for i in range(5):
                await echo(ws, f"during-{i}-" + "z" * 4000)
        await realtime_server.connections[0].closed.wait()
        await asyncio.sleep(0.3)
        await proxy.recorder.drain()
        recs = records(only_capture(small / "captures"))
    lines = err.getvalue().splitlines()
    assert sum("RECORDER ERROR" in line for line in lines) == 1
    # The small gap record (written with the close record) may fit in the file's last page; if
    # it does not, stderr says the capture is incomplete. Either way the gap is not silent.
    in_file = [r for r in recs if r["kind"] == "incomplete"]
    on_stderr = [line for line in lines if "INCOMPLETE" in line and "could not be written" in line]
    assert len(in_file) + len(on_stderr) == 1
    if in_file:
        assert in_file[0]["lost"] == 10 and recs[-1]["kind"] == "close"


async def test_addon_exception_is_reported_once_and_traffic_flows(
    start_proxy: StartProxy,
    realtime_server: RealtimeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = addon.message_records

    def flaky(conn: str, seq: int, t: float, from_client: bool, payload: bytes, *a: Any, **k: Any):  # type: ignore[no-untyped-def]
        if payload == b"echo:boom":
            raise ValueError("simulated recorder bug")
        return real(conn, seq, t, from_client, payload, *a, **k)

    monkeypatch.setattr(addon, "message_records", flaky)
    err = io.StringIO()
    _, port = await start_proxy(err=err)
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        for _ in range(3):
            await echo(ws, "boom")
        await echo(ws, "fine")
    await realtime_server.connections[0].closed.wait()
    await asyncio.sleep(0.2)
    alarms = [line for line in err.getvalue().splitlines() if "RECORDER ERROR" in line]
    assert len(alarms) == 1 and "simulated recorder bug" in alarms[0]
    recs = records(only_capture(tmp_path / "captures"))
    (error,) = [r for r in recs if r["kind"] == "error"]
    assert "simulated recorder bug" in error["error"]
    assert [r.get("text") for r in recs if r["kind"] == "msg"][-2:] == ["echo:fine"] * 2
