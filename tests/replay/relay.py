"""A test-only recording relay: a WebSocket server on 127.0.0.1 that forwards every message to an
upstream server and writes the session as a capture (format v1, through the real codec and
writer). It stands in for ``rtscope record`` (mitmproxy, another package) so the replay tests
can make "original" captures of real sessions against the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from rtscope.capture.codec import close_record, message_record, open_record
from rtscope.capture.writer import CaptureWriter


@contextlib.asynccontextmanager
async def recording_relay(upstream: str, path: Path) -> AsyncIterator[str]:
    """Yield a ``ws://127.0.0.1:PORT`` base URL; the (single) session is written to ``path``."""
    writer = CaptureWriter(path)
    seq = 0

    def record(from_client: bool, message: str | bytes) -> None:
        nonlocal seq
        seq += 1
        payload = message.encode() if isinstance(message, str) else message
        writer.write(
            message_record("c1", seq, time.time(), from_client, payload, isinstance(message, str))
        )

    async def handler(client: ServerConnection) -> None:
        assert client.request is not None
        headers = [
            (k, v)
            for k, v in client.request.headers.raw_items()
            if k.lower() in ("authorization", "openai-beta")
        ]
        async with connect(
            upstream + client.request.path, additional_headers=headers, max_size=2**24
        ) as server:
            writer.write(
                open_record("c1", time.time(), upstream + client.request.path, headers, [], 101)
            )

            async def pump(src, dst, from_client: bool) -> None:  # type: ignore[no-untyped-def]
                async for message in src:
                    record(from_client, message)
                    await dst.send(message)

            tasks = [
                asyncio.create_task(pump(client, server, True)),
                asyncio.create_task(pump(server, client, False)),
            ]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            for task in done:
                with contextlib.suppress(ConnectionClosed):
                    task.result()
            by = "client" if tasks[0] in done else "server"
            writer.write(close_record("c1", time.time(), server.close_code or 1000, "", by))

    server = await serve(handler, "127.0.0.1", 0, max_size=2**24)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()
        writer.close()
