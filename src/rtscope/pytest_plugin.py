"""pytest plugin (entry point ``pytest11: rtscope``): Realtime servers on 127.0.0.1 for tests.

What pytest-recording does for HTTP cassettes, for WebSocket sessions:

- ``@pytest.mark.rtscope_capture("cassettes/session.jsonl", strict=True)`` + the fixture
  ``rtscope_capture`` serve that capture's server side (``rtscope serve``) on a free port for
  the test; a relative path is looked up next to the test file;
- ``rtscope_simulator`` starts the simulator; ``@pytest.mark.rtscope_scenario("modality-race",
  race_delay_ms=300)`` picks the scenario and options.

Both fixtures give a :class:`Endpoint`: ``.url`` (``ws://127.0.0.1:PORT/v1/realtime``) and
``.base_url`` (``ws://127.0.0.1:PORT/v1``, what ``AsyncOpenAI(websocket_base_url=…)`` wants). The
server runs in a thread with its own event loop, so sync and async tests can use it alike.
Nothing is imported beyond pytest until a fixture is used.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["Endpoint", "ServerThread"]


@dataclass(frozen=True)
class Endpoint:
    """Where a test server listens."""

    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    @property
    def base_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1"

    def __str__(self) -> str:
        return self.url


class ServerThread:
    """A :func:`rtscope.replay.wsserver.start_server` in a daemon thread, on 127.0.0.1."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        self._factory = factory
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._main, name="rtscope-server", daemon=True)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from .replay.wsserver import start_server

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            server = await start_server(self._factory, "127.0.0.1", 0)
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()

    def start(self) -> Endpoint:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the rtscope test server did not start within 10 s")
        if self._error is not None:
            raise self._error
        return Endpoint(self.port)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rtscope_capture(path, *, conn=None, speed=1.0, strict=False): serve this capture to "
        "the rtscope_capture fixture",
    )
    config.addinivalue_line(
        "markers",
        "rtscope_scenario(name='default', **options): simulator scenario and SimOptions for "
        "the rtscope_simulator fixture",
    )


@pytest.fixture
def rtscope_capture(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    """Serve the capture of the test's ``rtscope_capture`` marker; yields its :class:`Endpoint`."""
    from .replay.playback import Playback
    from .replay.recording import load_recording

    marker = request.node.get_closest_marker("rtscope_capture")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            "the rtscope_capture fixture needs @pytest.mark.rtscope_capture('path.jsonl')"
        )
    path = Path(marker.args[0])
    if not path.is_absolute():
        path = Path(request.node.path).parent / path
    recording = load_recording(path, marker.kwargs.get("conn"))
    speed = float(marker.kwargs.get("speed", 1.0))
    strict = bool(marker.kwargs.get("strict", False))

    def factory(handshake: Any, now: float) -> Playback:
        return Playback(recording, now, speed=speed, strict=strict)

    server = ServerThread(factory)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def rtscope_simulator(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    """Start the simulator (scenario from ``rtscope_scenario``); yields its :class:`Endpoint`."""
    from .replay.sim import SimOptions, simulator_factory

    marker = request.node.get_closest_marker("rtscope_scenario")
    name = marker.args[0] if marker is not None and marker.args else "default"
    options = SimOptions(scenario=name, **(marker.kwargs if marker is not None else {}))
    server = ServerThread(simulator_factory(options))
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()
