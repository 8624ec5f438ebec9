"""Fixtures: the scripted Realtime server and rtscope's recording proxy, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest

from rtscope.proxy.master import RecordConfig, RecordProxy

from .realtime_server import RealtimeServer

API_KEY = "sk-test-SECRETabcdefghijklmnop0123456789"


@pytest.fixture(scope="session")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mitmproxy confdir shared by the session (its CA is generated once)."""
    return tmp_path_factory.mktemp("mitmproxy-conf")


@pytest.fixture
async def realtime_server() -> AsyncIterator[RealtimeServer]:
    async with RealtimeServer() as server:
        yield server


StartProxy = Callable[..., Awaitable[tuple[RecordProxy, int]]]


@pytest.fixture
def writer() -> str:
    """``RecordConfig.writer`` of :func:`start_proxy`; a module overrides it to run its tests
    with the writer process too (``params=WRITERS``)."""
    return "inline"


#: both ways of writing: in the proxy's hooks, and in the writer process
WRITERS = ["inline", "process"]


@pytest.fixture
async def start_proxy(
    tmp_path: Path, confdir: Path, realtime_server: RealtimeServer, writer: str
) -> AsyncIterator[StartProxy]:
    """``proxy, port = await start_proxy(**RecordConfig fields)``: recorder before the server."""
    proxies: list[RecordProxy] = []

    async def start(err: Any = None, **overrides: Any) -> tuple[RecordProxy, int]:
        settings: dict[str, Any] = {
            "upstream": realtime_server.url,
            "listen_port": 0,
            "out": tmp_path / "captures",
            "confdir": str(confdir),
            "quiet": True,
            "writer": writer,
        }
        settings.update(overrides)
        proxy = RecordProxy(RecordConfig(**settings), err=err)
        proxies.append(proxy)
        _, port = await proxy.start()
        return proxy, port

    yield start
    for proxy in proxies:
        await proxy.stop()
        # no silent fallback: a proxy asked for the writer process recorded through it
        assert proxy.recorder.writer == proxy.config.writer


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in read_lines(path)]


def only_capture(directory: Path) -> Path:
    files = sorted(directory.glob("*.jsonl"))
    assert len(files) == 1, files
    return files[0]


def writer_processes(pid: int | None = None) -> list[psutil.Process]:
    """The writer processes (``rtscope.proxy.writer_process``) among the children of ``pid``
    (this process by default)."""
    return [
        child
        for child in psutil.Process(pid).children()
        if "rtscope.proxy.writer_process" in child.cmdline()
    ]
