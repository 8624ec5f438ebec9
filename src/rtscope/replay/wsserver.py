"""The thin websockets shell shared by the simulator and the mock server (``rtscope serve``).

Each connection gets its own *session*: any object with the sans-I/O interface of
:class:`~rtscope.replay.sim.core.Simulator` (``receive(now, data)``, ``due(now)``,
``next_due()``, ``closed``). The shell only moves bytes and keeps the clock:

    loop: send every due action → wait for a client message until the next due time → feed it

Robustness: a client that never reads cannot make the server buffer without bound (each send
waits on websockets' bounded write buffer at most ``send_timeout`` seconds, then the connection
is dropped); a client that disconnects mid-stream ends only its own session; garbage is the
session's problem (it answers ``error`` events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

__all__ = ["Handshake", "SessionLike", "dialect_of", "start_server"]

log = logging.getLogger("rtscope.serve")

MAX_MESSAGE = 16 * 2**20  # the API accepts up to 15 MiB per event


class SessionLike(Protocol):
    closed: bool

    def receive(self, now: float, data: str | bytes) -> None: ...

    def due(self, now: float) -> list[Any]: ...

    def next_due(self) -> float | None: ...


@dataclass(frozen=True)
class Handshake:
    """What a session factory may look at: the request path and headers."""

    path: str
    headers: dict[str, str]
    subprotocols: tuple[str, ...]


def dialect_of(handshake: Handshake) -> str:
    """``"beta"`` when the handshake asks for the beta shape (header or browser subprotocol)."""
    beta = handshake.headers.get("openai-beta", "")
    if (
        "realtime=v1" in beta.replace(" ", "")
        or "openai-beta.realtime-v1" in handshake.subprotocols
    ):
        return "beta"
    return "ga"


def _select_subprotocol(connection: ServerConnection, subprotocols: Any) -> Subprotocol | None:
    offered = list(subprotocols)
    if "realtime" in offered:
        return Subprotocol("realtime")
    return None


#: websockets' write buffer high-water mark for our connections (its default): a send that cannot
#: take the buffer above it never waits for the client, so it needs no timeout.
WRITE_LIMIT = 2**15
#: frame header and slack on top of a payload
_FRAME_OVERHEAD = 16
#: the guard of a send that cannot wait (reusable: nullcontext keeps no state)
_NO_TIMEOUT: contextlib.AbstractAsyncContextManager[None] = contextlib.nullcontext()


async def _run(
    ws: ServerConnection,
    factory: Callable[[Handshake, float], SessionLike],
    send_timeout: float,
) -> None:
    loop = asyncio.get_running_loop()
    request = ws.request
    assert request is not None
    headers = {k.lower(): v for k, v in request.headers.raw_items()}
    protocols = tuple(
        p.strip()
        for value in request.headers.get_all("Sec-WebSocket-Protocol")
        for p in value.split(",")
    )
    session = factory(Handshake(request.path, headers, protocols), loop.time())
    peer = ws.remote_address
    log.info("connection from %s (%s)", peer, request.path)
    # Client messages are read by their own task and fed to the session as they arrive; this
    # task sends what is due and then sleeps until the next due time or the next client message
    # (``wake``). No timeout is armed and cancelled per message: 50 clients × ~45 messages/s in
    # step made that most of the server's CPU (py-spy, docs/performance.md, target 5).
    wake = asyncio.Event()
    reader = asyncio.create_task(_read(ws, session, wake))
    transport = ws.transport
    try:
        while True:
            for action in session.due(loop.time()):
                event = getattr(action, "event", None)
                if event is not None:
                    payload = event if isinstance(event, str | bytes) else orjson.dumps(event)
                    # bytes go out as a text frame as they are: no decode per send
                    text = not getattr(action, "binary", False)
                    frame_text = text if isinstance(payload, bytes) else None
                    # (a str's UTF-8 takes at most 4 bytes a character)
                    size = len(payload) if isinstance(payload, bytes) else 4 * len(payload)
                    fits = transport.get_write_buffer_size() + size + _FRAME_OVERHEAD < WRITE_LIMIT
                    # a send that fits cannot wait for the client: no timeout to arm and cancel
                    guard = _NO_TIMEOUT if fits else asyncio.timeout(send_timeout)
                    try:
                        async with guard:
                            await ws.send(payload, text=frame_text)
                    except TimeoutError:
                        log.warning("%s does not read; dropping the connection", peer)
                        transport.abort()
                        return
                    continue
                code = getattr(action, "code", None)
                if code is None:
                    transport.abort()
                else:
                    await ws.close(code, getattr(action, "reason", ""))
                return
            if session.closed:
                await ws.close(1000)
                return
            if reader.done():
                reader.result()  # the client went away: ConnectionClosed
                return
            due = session.next_due()
            timer = None if due is None else loop.call_at(due, wake.set)
            await wake.wait()
            wake.clear()
            if timer is not None:
                timer.cancel()
    except ConnectionClosed:
        log.info("%s disconnected", peer)
    finally:
        if not reader.done():
            reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await reader


async def _read(ws: ServerConnection, session: SessionLike, wake: asyncio.Event) -> None:
    """Feed every client message to the session as it arrives; wake the sender each time (and
    once more when the connection closes, with ``ConnectionClosed`` as this task's result)."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            message = await ws.recv()
            session.receive(loop.time(), message)
            wake.set()
    finally:
        wake.set()


async def start_server(
    factory: Callable[[Handshake, float], SessionLike],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    send_timeout: float = 10.0,
) -> Server:
    """Listen on ``host:port`` (port 0: a free one); each connection runs its own session.

    The caller owns the returned server (``server.close(); await server.wait_closed()``);
    ``server.sockets[0].getsockname()[1]`` is the port.
    """

    async def handler(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            await _run(ws, factory, send_timeout)

    return await serve(
        handler,
        host,
        port,
        max_size=MAX_MESSAGE,
        write_limit=WRITE_LIMIT,
        select_subprotocol=_select_subprotocol,
        logger=logging.getLogger("rtscope.serve.websockets"),
    )
