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
    try:
        while True:
            for action in session.due(loop.time()):
                event = getattr(action, "event", None)
                if event is not None:
                    payload = event if isinstance(event, str | bytes) else orjson.dumps(event)
                    text = not getattr(action, "binary", False)
                    try:
                        async with asyncio.timeout(send_timeout):
                            # bytes go out as a text frame as they are: no decode per send
                            await ws.send(
                                payload, text=text if isinstance(payload, bytes) else None
                            )
                    except TimeoutError:
                        log.warning("%s does not read; dropping the connection", peer)
                        ws.transport.abort()
                        return
                    continue
                code = getattr(action, "code", None)
                if code is None:
                    ws.transport.abort()
                else:
                    await ws.close(code, getattr(action, "reason", ""))
                return
            if session.closed:
                await ws.close(1000)
                return
            due = session.next_due()
            try:
                # asyncio.timeout, not wait_for: no task per wake-up (50 clients × ~45 msg/s);
                # cancelling recv() is safe in websockets.
                async with asyncio.timeout_at(due):
                    message = await ws.recv()
            except TimeoutError:
                continue
            session.receive(loop.time(), message)
    except ConnectionClosed:
        log.info("%s disconnected", peer)


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
        select_subprotocol=_select_subprotocol,
        logger=logging.getLogger("rtscope.serve.websockets"),
    )
