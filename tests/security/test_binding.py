"""``rtscope serve``, ``serve --simulate`` and ``rtscope record`` listen on 127.0.0.1 by default.

The listening socket's address is read from the kernel (``/proc/<pid>/fd`` → ``/proc/net/tcp*``),
not from what the command prints. A port-only ``--listen 0`` keeps the default host and picks a
free port, so the tests never fight over the default port; that the default port goes with
127.0.0.1 is checked on the options themselves. Another address needs ``--allow-remote`` (the
same option for every command: without it, one line and exit code 2) and then prints a warning. Nothing is ever sent to a non-loopback address: binding 0.0.0.0 is only looked
at, connections go to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import click
import pytest
import websockets

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
CAPTURE = FIXTURES / "ga-lifecycle.jsonl"
_URL = re.compile(r"(?:ws|http)://([^/\s]+):(\d+)")

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket ``pid`` listens on."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            hex_addr, hex_port = local.split(":")
            raw = bytes.fromhex(hex_addr)
            # /proc prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add((socket.inet_ntop(family, raw), int(hex_port, 16)))
    return found


@asynccontextmanager
async def running(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, int, str]]:
    """Start ``rtscope ARGS``; yield (process, announced port, stderr so far)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtscope", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        matches = list(_URL.finditer(line))  # record names its upstream first, then itself
        match = matches[-1] if matches else None
        if match is None:
            proc.kill()
            _, err = await proc.communicate()
            raise AssertionError(f"no listen line: {line!r} {err!r}")
        err_lines = []
        while True:  # whatever was printed on stderr before listening (the warning)
            try:
                err_line = await asyncio.wait_for(proc.stderr.readline(), 0.5)
            except TimeoutError:
                break
            if not err_line:
                break
            err_lines.append(err_line.decode())
        yield proc, int(match.group(2)), "".join(err_lines)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.communicate(), 20)


def _record_args(tmp_path: Path, listen: str) -> list[str]:
    return [
        "record", "--listen", listen, "--upstream", "http://127.0.0.1:9",
        "--out", str(tmp_path / "captures"), "--confdir", str(tmp_path / "conf"),
    ]  # fmt: skip


COMMANDS = {
    "serve": lambda tmp, listen: ["serve", str(CAPTURE), "--listen", listen],
    "serve --simulate": lambda tmp, listen: ["serve", "--simulate", "--listen", listen],
    "record": _record_args,
}


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_default_host_is_loopback_only(command: str, tmp_path: Path) -> None:
    async with running(*COMMANDS[command](tmp_path, "0")) as (proc, port, err):
        assert listening(proc.pid) == {("127.0.0.1", port)}
        assert "WARNING" not in err
        if command != "record":  # a client gets an answer on 127.0.0.1
            async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime") as ws:
                assert "session.created" in str(await asyncio.wait_for(ws.recv(), 5))


@pytest.mark.parametrize(
    ("module", "default"), [("serve", "127.0.0.1:8800"), ("record", "127.0.0.1:8765")]
)
def test_the_default_listen_option_is_127_0_0_1(module: str, default: str) -> None:
    import importlib

    command: click.Command = importlib.import_module(f"rtscope.cli.{module}").command
    (listen,) = [p for p in command.params if p.name == "listen"]
    assert listen.default == default


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_a_non_loopback_address_is_refused_without_allow_remote(
    command: str, tmp_path: Path
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtscope", *COMMANDS[command](tmp_path, "0.0.0.0:0"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().splitlines() == [
        "rtscope: --listen: 0.0.0.0 is not a loopback address "
        "(add --allow-remote to listen beyond this machine)"
    ]
    assert out == b""


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_another_address_with_allow_remote_listens_there_and_warns(
    command: str, tmp_path: Path
) -> None:
    args = COMMANDS[command](tmp_path, "0.0.0.0:0") + ["--allow-remote"]
    async with running(*args) as (proc, port, err):
        assert listening(proc.pid) == {("0.0.0.0", port)}
        assert "WARNING" in err and "0.0.0.0" in err
        assert "network" in err
