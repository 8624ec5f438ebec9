"""A scripted Realtime-speaking WebSocket server on 127.0.0.1 (stands in for OpenAI's servers).

It speaks both dialects: a client that sends ``OpenAI-Beta: realtime=v1`` gets beta event names
(``response.audio.delta``, ``conversation.item.created``), any other client gets GA names
(``response.output_audio.delta``, ``conversation.item.added``/``.done``). It answers:

- on connect: ``session.created`` (beta: then ``conversation.created``);
- ``session.update`` → ``session.updated`` (the session merged with the update);
- ``conversation.item.create`` → the item events of its dialect;
- ``input_audio_buffer.commit`` → ``input_audio_buffer.committed`` + the user item;
- ``response.create`` → a short audio response: created, output item, content part, three audio
  deltas and transcript deltas interleaved, the ``done`` events, ``response.done``;
- anything else that parses as an event with an unknown type → an ``error`` event.

Test controls (not Realtime events) let tests drive transport behaviour: a text ``echo:<x>`` is
echoed, binary messages are echoed, ``big:<n>`` answers with an n-byte text message, ``burst:<n>``
answers with n small events, ``drop`` aborts the TCP connection without a close frame,
``close:<code>:<reason>`` closes with that code. A request whose ``model`` query value is
``refuse-<status>`` is refused with that HTTP status and a JSON error body.

Every message is kept, exactly as sent or received (``str`` for text, ``bytes`` for binary), in
``connections[i].received`` / ``.sent`` for byte-exact comparisons.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

Payload = str | bytes


@dataclass
class Conn:
    path: str
    headers: dict[str, str]
    beta: bool
    received: list[Payload] = field(default_factory=list)
    sent: list[Payload] = field(default_factory=list)
    #: Both directions in the order the server saw them: ("client"|"server", payload).
    order: list[tuple[str, Payload]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None


class RealtimeServer:
    """``async with RealtimeServer() as server: server.port``"""

    def __init__(self, compression: str | None = None) -> None:
        self.compression = compression
        self.connections: list[Conn] = []
        self._ids = itertools.count(1)
        self._server: Any = None
        self.port = 0

    async def __aenter__(self) -> RealtimeServer:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            max_size=64 * 2**20,
            compression=self.compression,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        model = parse_qs(urlsplit(request.path).query).get("model", [""])[0]
        if model.startswith("refuse-"):
            status = HTTPStatus(int(model.removeprefix("refuse-")))
            body = json.dumps(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "refused",
                        "message": f"refused {status.value} (key sk-test-leak-0123456789abcdef)",
                    }
                }
            ).encode()
            headers = Headers([("Content-Type", "application/json")])
            return Response(status.value, status.phrase, headers, body)
        return None

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    async def _send(self, ws: ServerConnection, conn: Conn, payload: Payload) -> None:
        conn.sent.append(payload)
        conn.order.append(("server", payload))
        await ws.send(payload)

    async def _event(self, ws: ServerConnection, conn: Conn, event: dict[str, Any]) -> None:
        event = {"type": event.pop("type"), "event_id": self._id("event"), **event}
        await self._send(ws, conn, json.dumps(event))

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        conn = Conn(request.path, headers, beta="realtime=v1" in headers.get("openai-beta", ""))
        self.connections.append(conn)
        session = {"id": self._id("sess"), "object": "realtime.session", "model": "gpt-realtime"}
        if not conn.beta:
            session["type"] = "realtime"
        try:
            await self._event(ws, conn, {"type": "session.created", "session": session})
            if conn.beta:
                await self._event(
                    ws,
                    conn,
                    {"type": "conversation.created", "conversation": {"id": self._id("conv")}},
                )
            async for message in ws:
                conn.received.append(message)
                conn.order.append(("client", message))
                if await self._control(ws, conn, message):
                    continue
                await self._answer(ws, conn, session, message)
        except Exception:  # noqa: BLE001 - a dropped client ends the handler
            pass
        finally:
            conn.close_code = ws.close_code
            conn.closed.set()

    async def _control(self, ws: ServerConnection, conn: Conn, message: Payload) -> bool:
        if isinstance(message, bytes):
            await self._send(ws, conn, message)
            return True
        if message.startswith("echo:"):
            await self._send(ws, conn, message)
            return True
        if message.startswith("big:"):
            size = int(message[4:])
            await self._send(ws, conn, "x" * size)
            return True
        if message.startswith("burst:"):
            for i in range(int(message[6:])):
                await self._event(ws, conn, {"type": "rate_limits.updated", "n": i})
            return True
        if message == "drop":
            ws.transport.abort()
            return True
        if message.startswith("close:"):
            _, code, reason = message.split(":", 2)
            await ws.close(int(code), reason)
            return True
        return False

    async def _answer(
        self, ws: ServerConnection, conn: Conn, session: dict[str, Any], message: str
    ) -> None:
        try:
            event = json.loads(message)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            await self._event(
                ws,
                conn,
                {"type": "error", "error": {"type": "invalid_request_error", "code": "bad_json"}},
            )
            return
        kind = event.get("type")
        if kind == "session.update":
            session.update(event.get("session") or {})
            await self._event(ws, conn, {"type": "session.updated", "session": session})
        elif kind == "conversation.item.create":
            item = {"id": self._id("item"), "status": "completed", **(event.get("item") or {})}
            await self._items(ws, conn, item)
        elif kind == "input_audio_buffer.append":
            pass
        elif kind == "input_audio_buffer.commit":
            item_id = self._id("item")
            await self._event(
                ws,
                conn,
                {"type": "input_audio_buffer.committed", "item_id": item_id},
            )
            item = {"id": item_id, "type": "message", "role": "user", "content": []}
            await self._items(ws, conn, item)
        elif kind == "response.create":
            await self._respond(ws, conn)
        else:
            await self._event(
                ws,
                conn,
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "code": "unknown_event",
                        "event_id": event.get("event_id"),
                    },
                },
            )

    async def _items(self, ws: ServerConnection, conn: Conn, item: dict[str, Any]) -> None:
        if conn.beta:
            await self._event(ws, conn, {"type": "conversation.item.created", "item": item})
        else:
            await self._event(ws, conn, {"type": "conversation.item.added", "item": item})
            await self._event(ws, conn, {"type": "conversation.item.done", "item": item})

    async def _respond(self, ws: ServerConnection, conn: Conn) -> None:
        beta = conn.beta
        audio_delta = "response.audio.delta" if beta else "response.output_audio.delta"
        audio_done = "response.audio.done" if beta else "response.output_audio.done"
        transcript = "response.audio_transcript" if beta else "response.output_audio_transcript"
        tr_delta, tr_done = f"{transcript}.delta", f"{transcript}.done"
        rid, iid = self._id("resp"), self._id("item")
        response = {"id": rid, "object": "realtime.response", "status": "in_progress", "output": []}
        await self._event(ws, conn, {"type": "response.created", "response": response})
        item = {"id": iid, "type": "message", "role": "assistant", "status": "in_progress"}
        ids = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
        await self._event(
            ws, conn, {"type": "response.output_item.added", "response_id": rid, "item": item}
        )
        part = {"type": "audio", "transcript": ""}
        await self._event(ws, conn, {"type": "response.content_part.added", **ids, "part": part})
        words = ["Hello", " there", "!"]
        for i, word in enumerate(words):
            pcm = bytes((i * 7 + j) % 256 for j in range(4800))  # 100 ms of 24 kHz PCM16
            delta = base64.b64encode(pcm).decode()
            await self._event(ws, conn, {"type": audio_delta, **ids, "delta": delta})
            await self._event(ws, conn, {"type": tr_delta, **ids, "delta": word})
        await self._event(ws, conn, {"type": audio_done, **ids})
        await self._event(ws, conn, {"type": tr_done, **ids, "transcript": "".join(words)})
        part = {"type": "audio", "transcript": "".join(words)}
        await self._event(ws, conn, {"type": "response.content_part.done", **ids, "part": part})
        item = {**item, "status": "completed", "content": [part]}
        await self._event(
            ws, conn, {"type": "response.output_item.done", "response_id": rid, "item": item}
        )
        done = {**response, "status": "completed", "output": [item]}
        await self._event(ws, conn, {"type": "response.done", "response": done})
