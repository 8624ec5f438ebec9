"""``rtscope record`` as a real subprocess: startup checks, clean stop, and ``kill -9``."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import psutil
import pytest
import websockets

from rtscope.capture.reader import CaptureReader

from ..proxy.conftest import writer_processes
from ..proxy.realtime_server import RealtimeServer

_LISTEN = re.compile(rb"on (?:ws|wss|http)://127\.0\.0\.1:(\d+)")


async def start_record(
    *args: str, umask: int = -1, new_session: bool = False, cpus: set[int] | None = None
) -> tuple[asyncio.subprocess.Process, int]:
    """Start ``rtscope record``; return the process and the port it announced.

    ``new_session``: in a process group of its own, as a terminal's foreground job (a Ctrl-C
    there reaches every process of the group: :func:`ctrl_c`). ``cpus``: the CPUs it may run
    on (``sched_setaffinity`` before it starts), as on a machine with only those."""
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rtscope",
        "record",
        "--listen",
        "127.0.0.1:0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        umask=umask,
        start_new_session=new_session,
        preexec_fn=pin,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    match = _LISTEN.search(line)
    if match is None:
        proc.kill()
        _, err = await proc.communicate()
        raise AssertionError(f"no listen line: {line!r} {err!r}")
    return proc, int(match.group(1))


def ctrl_c(proc: asyncio.subprocess.Process) -> None:
    """SIGINT to the whole process group (started with ``new_session``), as a terminal does."""
    os.killpg(proc.pid, signal.SIGINT)


#: how ``rtscope record`` writes: in the proxy, one write(2) per line or through a memory map;
#: or in a writer process
WRITING = pytest.mark.parametrize(
    "writing",
    [("--writer", "inline"), ("--mapped", "--writer", "inline"), ("--writer", "process")],
    ids=["write", "mapped", "process"],
)


@pytest.fixture
async def server() -> AsyncIterator[RealtimeServer]:
    async with RealtimeServer() as srv:
        yield srv


@WRITING
async def test_kill_9_loses_no_forwarded_message(
    server: RealtimeServer, tmp_path: Path, confdir: Path, writing: tuple[str, ...]
) -> None:
    out = tmp_path / "captures"
    proc, port = await start_record(
        "--upstream", server.url, "--out", str(out), "--confdir", str(confdir), *writing
    )
    client_got: list[str | bytes] = []
    writers: list[psutil.Process] = []  # started with the first connection
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:

            async def send_forever() -> None:
                i = 0
                while True:
                    await ws.send(f"echo:{i:06d}")
                    i += 1
                    await asyncio.sleep(0)

            async def receive() -> None:
                while True:
                    client_got.append(await ws.recv())
                    if len(client_got) == 300:
                        if "process" in writing:
                            writers.extend(writer_processes(proc.pid))
                            assert len(writers) == 1
                        os.kill(proc.pid, signal.SIGKILL)

            sender = asyncio.create_task(send_forever())
            try:
                await asyncio.wait_for(receive(), 20)
            except websockets.ConnectionClosed:
                pass
            finally:
                sender.cancel()
    except websockets.ConnectionClosed:
        pass
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(client_got) >= 300
    # the writer reads what the proxy handed over to its end, then exits
    _, alive = psutil.wait_procs(writers, timeout=20)
    assert alive == []

    (path,) = out.glob("*.jsonl")
    reader = CaptureReader(path)
    recs = [r for r in reader if r["kind"] == "msg"]  # reads cleanly (no exception)
    for problem in reader.problems:
        assert "truncated" in str(problem) or "was not closed" in str(problem)
    if "--mapped" in writing:  # killed while mapped: the file still ends in its unused window
        assert path.read_bytes().endswith(b"\0") and len(reader.problems) == 1
    conn = server.connections[0]
    from_client = [r["text"] for r in recs if r["from"] == "client"]
    from_server = [r for r in recs if r["from"] == "server"]
    # Every message the server received went through the proxy's hook first.
    assert from_client[: len(conn.received)] == conn.received
    # Every message the client received, in order, is in the capture.
    got = [orjson.dumps(r["event"]).decode() if "event" in r else r["text"] for r in from_server]
    assert len(got) >= len(client_got)
    assert [m.replace(" ", "") for m in got[: len(client_got)]] == [
        str(m).replace(" ", "") for m in client_got
    ]


@WRITING
async def test_ctrl_c_closes_private_captures_cleanly_even_with_umask_0(
    server: RealtimeServer, tmp_path: Path, confdir: Path, writing: tuple[str, ...]
) -> None:
    out = tmp_path / "captures" / "nested"
    proc, port = await start_record(
        "--upstream", server.url, "--out", str(out), "--confdir", str(confdir), *writing,
        umask=0, new_session=True,
    )  # fmt: skip
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send("echo:one")
        await ws.recv()
    await asyncio.sleep(0.3)
    ctrl_c(proc)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr
    text = stdout.decode()
    summary = r"\.jsonl: 1 client / 2 server messages, \d+\.\d s, close 1000 by client"
    assert re.search(summary, text)
    assert "captures closed" in text
    (path,) = out.glob("*.jsonl")
    reader = CaptureReader(path)
    assert [r["kind"] for r in reader][-1] == "close"
    assert reader.problems == []
    assert path.read_bytes().endswith(b"}\n")  # mapped or not: cut to its lines at the close
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700


def record_once(*args: str) -> subprocess.CompletedProcess[str]:
    """``rtscope record ARGS`` as a subprocess that is expected to exit on its own."""
    return subprocess.run(
        [sys.executable, "-m", "rtscope", "record", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_unwritable_out_dir_fails_before_listening(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = record_once("--out", str(blocker / "sub"))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "output directory is not writable" in lines[0]
    assert str(blocker / "sub") in lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--upstream", "ftp://example.com"], "unsupported scheme 'ftp'"),
        (["--upstream", "https://api.openai.com/v1"], "a path is not supported"),
        (["--listen", "127.0.0.1:http"], "bad port"),
    ],
)
def test_bad_flags_are_one_line_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    result = record_once("--out", str(tmp_path / "c"), *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr


def test_port_taken_is_one_line_exit_3(tmp_path: Path, confdir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = record_once(
            "--listen", f"127.0.0.1:{port}", "--out", str(tmp_path / "c"), "--confdir", str(confdir)
        )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0]


def test_non_loopback_listen_is_refused_without_allow_remote(tmp_path: Path, confdir: Path) -> None:
    result = record_once(
        "--listen", "0.0.0.0:0", "--out", str(tmp_path / "c"), "--confdir", str(confdir)
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "rtscope: --listen: 0.0.0.0 is not a loopback address "
        "(add --allow-remote to listen beyond this machine)"
    ]
    assert result.stdout == ""
    assert not (tmp_path / "c").exists()  # refused before anything else


async def test_non_loopback_listen_with_allow_remote_warns(tmp_path: Path, confdir: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rtscope",
        "record",
        "--listen",
        "0.0.0.0:0",
        "--allow-remote",
        "--out",
        str(tmp_path / "c"),
        "--confdir",
        str(confdir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    line = await asyncio.wait_for(proc.stderr.readline(), 30)
    proc.send_signal(signal.SIGINT)
    await proc.communicate()
    assert b"WARNING" in line and b"others on the network" in line


@pytest.mark.parametrize(
    "writing", [("--writer", "inline"), ("--writer", "process")], ids=["inline", "process"]
)
async def test_ctrl_c_with_a_live_session_closes_its_capture(
    server: RealtimeServer, tmp_path: Path, confdir: Path, writing: tuple[str, ...]
) -> None:
    out = tmp_path / "captures"
    proc, port = await start_record(
        "--upstream", server.url, "--out", str(out), "--confdir", str(confdir), *writing,
        new_session=True,
    )  # fmt: skip
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send("echo:one")
        await ws.recv()
        ctrl_c(proc)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr
    assert "no close frame" in stdout.decode()
    assert b"Traceback" not in stderr, stderr.decode()  # the open connection's cancellation
    (path,) = out.glob("*.jsonl")
    reader = CaptureReader(path)
    recs = list(reader)
    # live analysis (on by default) may append finding records after the close
    close = [r for r in recs if r["kind"] != "finding"][-1]
    assert reader.problems == []
    assert (close["kind"], close["code"], close["reason"]) == ("close", None, "recorder stopped")
    assert "abnormal-close" in {r.get("rule") for r in recs if r["kind"] == "finding"}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs a machine with two CPUs")
@pytest.mark.parametrize("cpus", ["all", "one"])
async def test_by_default_a_writer_process_records_where_there_are_two_cpus(
    server: RealtimeServer, tmp_path: Path, confdir: Path, cpus: str
) -> None:
    allowed = os.sched_getaffinity(0) if cpus == "all" else {min(os.sched_getaffinity(0))}
    out = tmp_path / "captures"
    proc, port = await start_record(
        "--upstream", server.url, "--out", str(out), "--confdir", str(confdir), "--no-live",
        cpus=allowed,
    )  # fmt: skip
    try:
        writers = writer_processes(proc.pid)
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
            await ws.recv()
            await ws.send("echo:one")
            await ws.recv()
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr
    assert len(writers) == (1 if cpus == "all" else 0)
    (path,) = out.glob("*.jsonl")
    kinds = [r["kind"] for r in CaptureReader(path)]
    assert kinds == ["open", "msg", "msg", "msg", "close"], kinds
