"""The client replayer's I/O shell: one run of a recording's client side against a target.

The shell connects, sends each recorded client message when :func:`~.plan.target_offset` says
(against the event loop's monotonic clock, so scheduling error never accumulates), rewrites ids
with :class:`~.plan.IdMap`, waits for acks in ``ack`` timing, and records the new session as a
capture (header: what it replays and how). After the last client message it keeps listening as
long as the recording's tail lasted (plus a grace period) or until the server closes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ..capture.codec import close_record, message_record, open_record, payload_of
from ..capture.redact import SECRET_QUERY_KEYS
from ..capture.writer import CaptureWriter
from ..errors import ReplayError
from .plan import AckTracker, IdMap, Timing, lateness_stats, target_offset
from .recording import Recording

__all__ = ["RunResult", "build_headers", "replay_once", "target_url"]

MAX_MESSAGE = 16 * 2**20


@dataclass
class RunResult:
    """What one run did."""

    timing: str
    index: int
    capture: Path
    lateness: dict[str, float]
    sent: int = 0
    received: int = 0
    unmapped: list[str] = field(default_factory=list)
    missing_acks: list[str] = field(default_factory=list)
    close_code: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "timing": self.timing,
            "index": self.index,
            "capture": str(self.capture),
            "lateness": self.lateness,
            "sent": self.sent,
            "received": self.received,
            "unmapped": self.unmapped,
            "missing_acks": self.missing_acks,
            "close_code": self.close_code,
            "notes": self.notes,
        }


def target_url(target: str, recording: Recording) -> str:
    """``--target`` completed with the recorded path and query when it has none."""
    parts = urllib.parse.urlsplit(target)
    recorded = urllib.parse.urlsplit(str((recording.open or {}).get("url") or ""))
    path, query = parts.path, parts.query
    if path in ("", "/"):
        path = recorded.path or "/v1/realtime"
        query = query or _without_credentials(recorded.query)
    elif not query and "model=" in recorded.query:
        query = "&".join(q for q in recorded.query.split("&") if q.startswith("model="))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _without_credentials(query: str) -> str:
    """The recorded query minus credential parameters (``api-key``…): the capture holds only
    ``[REDACTED]`` for them, and replay sends no credential the user did not give this run."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower().replace("-", "_") not in SECRET_QUERY_KEYS]
    return urllib.parse.urlencode(kept) if len(kept) != len(pairs) else query


def build_headers(
    recording: Recording, extra: list[tuple[str, str]], env: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """Credentials from ``OPENAI_API_KEY`` (never from the capture), the dialect header as
    recorded, then ``--header`` values, which win (an empty value removes a header)."""
    env = dict(os.environ) if env is None else env
    headers: dict[str, tuple[str, str]] = {}
    key = env.get("OPENAI_API_KEY")
    if key:
        headers["authorization"] = ("Authorization", f"Bearer {key}")
    beta = recording.request_header("openai-beta")
    if beta is not None:
        headers["openai-beta"] = ("OpenAI-Beta", beta)
    for name, value in extra:
        if value:
            headers[name.lower()] = (name, value)
        else:
            headers.pop(name.lower(), None)
    return list(headers.values())


def _silence_for(event: dict[str, Any]) -> dict[str, Any]:
    """An append whose audio was dropped at record time (``{"bytes": N, "sha256": …}``) is sent
    as N bytes of silence: same length and timing, no samples."""
    audio = event.get("audio")
    if isinstance(audio, dict) and isinstance(audio.get("bytes"), int):
        return {**event, "audio": base64.b64encode(bytes(audio["bytes"])).decode("ascii")}
    return event


#: How early to wake before a message is due. epoll rounds timeouts up to whole milliseconds, so
#: a plain asyncio.sleep wakes 0-1 ms late (bench/sleep_lateness.py: p50 0.7 ms on a bare loop).
_WAKE_EARLY = 0.002


async def _sleep_until(loop: asyncio.AbstractEventLoop, due: float) -> None:
    """Sleep until ``due`` on the loop's monotonic clock, to well under a millisecond.

    Sleeps to 2 ms before, then yields to the loop (the receiver keeps running) until due.
    """
    delay = due - loop.time() - _WAKE_EARLY
    if delay > 0:
        await asyncio.sleep(delay)
    while loop.time() < due:
        await asyncio.sleep(0)


async def replay_once(
    recording: Recording,
    target: str,
    out_path: Path,
    *,
    timing: Timing = "original",
    index: int = 1,
    speed: float = 1.0,
    headers: list[tuple[str, str]] | None = None,
    ack_timeout: float = 10.0,
    grace: float = 1.0,
    send_timeout: float = 10.0,
    options: dict[str, Any] | None = None,
) -> RunResult:
    """Replay ``recording``'s client side against ``target`` once and record it to ``out_path``."""
    loop = asyncio.get_running_loop()
    url = target_url(target, recording)
    # None: the defaults (OPENAI_API_KEY, the recorded dialect header); see build_headers.
    header_list = build_headers(recording, []) if headers is None else headers
    ids = IdMap()
    recorded_events = [m["event"] for m in recording.messages if isinstance(m.get("event"), dict)]
    for event in recorded_events:
        if (event.get("type") or "") == "conversation.item.create":
            ids.note_client(event)
    ids.learn_recorded([m["event"] for m in recording.server if isinstance(m.get("event"), dict)])
    writer = CaptureWriter(
        out_path,
        header={"replay_of": recording.source, "replay_conn": recording.conn,
                "replay_options": {"timing": timing, "speed": speed, "index": index,
                                   "target": url, **(options or {})}},
    )  # fmt: skip
    conn_id = f"replay-{timing}-{index}"
    result = RunResult(timing, index, out_path, lateness_stats([]))
    seq = 0
    acks = AckTracker()
    acked = asyncio.Event()
    acked.set()
    last_server = loop.time()

    def record(from_client: bool, payload: bytes, is_text: bool) -> None:
        nonlocal seq
        seq += 1
        writer.write(message_record(conn_id, seq, time.time(), from_client, payload, is_text))

    try:
        ws = await connect(url, additional_headers=header_list, max_size=MAX_MESSAGE,
                           open_timeout=10)  # fmt: skip
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        writer.close()
        detail = f"HTTP {exc.response.status_code}" if isinstance(exc, InvalidStatus) else exc
        raise ReplayError(f"cannot connect to {url}: {detail}") from None
    opened = loop.time()
    response = ws.response
    writer.write(
        open_record(
            conn_id,
            time.time(),
            url,
            header_list,
            list(response.headers.raw_items()) if response else [],
            response.status_code if response else None,
        )  # fmt: skip
    )

    async def receive(connection: ClientConnection) -> None:
        nonlocal last_server
        try:
            async for message in connection:
                last_server = loop.time()
                is_text = isinstance(message, str)
                payload = message.encode("utf-8") if isinstance(message, str) else message
                record(False, payload, is_text)
                result.received += 1
                if is_text:
                    try:
                        event = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(event, dict):
                        ids.learn(event)
                        acks.received(str(event.get("type")))
                        if acks.pending is None:
                            acked.set()
        except ConnectionClosed:
            pass

    receiver = asyncio.create_task(receive(ws))
    lateness: list[float] = []
    shift = 0.0
    try:
        for msg in recording.client:
            offset = recording.offset(msg) or 0.0
            if timing == "ack" and acks.pending is not None:
                waiting_for = acks.pending
                began = loop.time()
                try:
                    await asyncio.wait_for(acked.wait(), ack_timeout)
                except TimeoutError:
                    result.missing_acks.append(f"{waiting_for}: no answer in {ack_timeout:g}s")
                    acks.pending = None
                    acked.set()
                waited = loop.time() - began
                due_before = opened + target_offset(timing, offset, speed, shift)
                shift += max(0.0, min(waited, loop.time() - due_before))
            due = opened + target_offset(timing, offset, speed, shift)
            await _sleep_until(loop, due)
            if receiver.done():
                result.notes.append("the server closed the connection before the replay ended")
                break
            event = msg.get("event")
            if isinstance(event, dict):
                event = ids.rewrite(_silence_for(event), msg.get("seq"))
                etype = str(event.get("type"))
                payload, is_text = orjson.dumps(event), True
            else:
                etype = ""
                payload, is_text = payload_of(msg)
            if timing != "asap":
                lateness.append(max(0.0, loop.time() - due))
            try:
                await asyncio.wait_for(ws.send(payload, text=is_text), send_timeout)
            except ConnectionClosed:
                result.notes.append("the connection closed while sending")
                break
            except TimeoutError:
                result.notes.append(
                    f"the server stopped reading (a send waited {send_timeout:g} s)"
                )
                ws.transport.abort()
                break
            record(True, payload, is_text)
            result.sent += 1
            if etype:
                acks.sent(etype)
                if acks.pending is not None:
                    acked.clear()
        # Listen as long as the recording did after its last client message.
        last_client = recording.client[-1] if recording.client else None
        end = recording.offset(recording.messages[-1]) if recording.messages else None
        tail = 0.0
        if last_client is not None and end is not None:
            tail = max(0.0, end - (recording.offset(last_client) or 0.0)) / (speed or 1.0)
        deadline = loop.time() + tail + grace
        while not receiver.done():
            now = loop.time()
            if now >= deadline and now - last_server >= grace / 2:
                break
            if now >= deadline + 10 * grace:
                break
            await asyncio.wait({receiver}, timeout=0.05)
    finally:
        result.unmapped = list(ids.unmapped)
        result.lateness = lateness_stats(lateness)
        if not receiver.done():
            await ws.close()
        try:
            await asyncio.wait_for(receiver, 5)
        except TimeoutError:
            receiver.cancel()
        result.close_code = ws.close_code
        proto = ws.protocol
        by: Literal["client", "server"] | None = None
        if proto.close_rcvd is not None:
            by = "server" if proto.close_rcvd_then_sent else "client"
        writer.write(close_record(conn_id, time.time(), ws.close_code, ws.close_reason or "", by))
        writer.write({"kind": "replay", "conn": conn_id, **result.to_dict(),
                      "capture": out_path.name})  # fmt: skip
        writer.close()
    return result
