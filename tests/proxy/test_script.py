"""``mitmdump -s "$(rtscope addon-path)"``: the same recorder inside a stock mitmdump."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import websockets

from rtscope.capture.reader import CaptureReader

from .realtime_server import RealtimeServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_addon_path_prints_the_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rtscope", "addon-path"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    path = Path(result.stdout.strip())
    assert path.name == "script.py" and path.is_file()
    assert "addons = [Recorder(), RecordingBackpressure()]" in path.read_text()


@pytest.mark.parametrize("mode", ["inline", "process", "default"])
async def test_mitmdump_with_script_records_a_session(
    realtime_server: RealtimeServer, tmp_path: Path, confdir: Path, mode: str
) -> None:
    script = subprocess.run(
        [sys.executable, "-m", "rtscope", "addon-path"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    mitmdump = Path(sys.executable).parent / "mitmdump"
    port = _free_port()
    out = tmp_path / "captures"
    proc = await asyncio.create_subprocess_exec(
        str(mitmdump),
        "-q",
        "-s",
        script,
        "--mode",
        f"reverse:{realtime_server.url}@{port}",
        "--listen-host",
        "127.0.0.1",
        "--set",
        f"rtscope_dir={out}",
        "--set",
        f"confdir={confdir}",
        *(() if mode == "default" else ("--set", f"rtscope_writer={mode}")),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(200):  # wait until mitmdump listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
            else:
                writer.close()
                break
        url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
        async with websockets.connect(url) as ws:
            assert "session.created" in await ws.recv()
            await ws.send('{"type":"response.create"}')
            while "response.done" not in await ws.recv():
                pass
        await realtime_server.connections[0].closed.wait()
        await asyncio.sleep(0.3)
        children = psutil.Process(proc.pid).children()
        names = [" ".join(child.cmdline()) for child in children]
        # by default (auto) a writer process records where mitmdump may run on two CPUs
        two_cpus = len(os.sched_getaffinity(0)) >= 2
        assert len(names) == (mode == "process" or (mode == "default" and two_cpus)), names
        assert all("rtscope.proxy.writer_process" in name for name in names), names
    finally:
        proc.terminate()
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
    (path,) = out.glob("*_gpt-realtime_*.jsonl")
    recs = list(CaptureReader(path))
    kinds = [r["kind"] for r in recs]
    assert kinds[0] == "open" and kinds[-1] == "close"
    msgs = [r for r in recs if r["kind"] == "msg"]
    assert len(msgs) == len(realtime_server.connections[0].order)
    assert msgs[1]["event"] == {"type": "response.create"}
    assert b"Traceback" not in stderr
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []  # mitmdump stopped its writer process (which wrote the close record)
