"""Mock server from a recording: a sans-I/O cursor over one recorded connection (like vcrpy's
cassette, for a WebSocket session).

The recording is cut into *blocks*: the server messages before the first client message, then,
for each recorded client message, the server messages that followed it. A client that connects
gets the first block at its recorded offsets; each client message that *matches* the next
recorded one (same ``type`` plus the fields of :data:`MATCH_FIELDS`) releases that message's block
with the recorded delays (divided by ``speed``). Served events are the recorded bytes, ids
included.

A message that does not match:

- lenient (default): if it matches a recorded client message a little further on (the client
  skipped some), the blocks up to it are released; otherwise it is ignored. Both are noted in
  :attr:`Playback.mismatches`.
- strict: an ``error`` event and a close (1008) whose reason names the expected and the received
  message and the nearest recorded match.

Same interface as the simulator core (``receive``/``due``/``next_due``/``closed``), so the same
websockets shell serves both.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from ..capture.codec import payload_of
from .recording import Recording

__all__ = ["MATCH_FIELDS", "Mismatch", "Payload", "Playback", "Script", "describe", "script_of"]

#: Extra fields (dotted paths) compared for a client event type, beyond ``type``.
MATCH_FIELDS: dict[str, tuple[str, ...]] = {
    "conversation.item.create": ("item.type", "item.role"),
    "conversation.item.truncate": ("content_index",),
}
_LOOKAHEAD = 64
log = logging.getLogger("rtscope.serve")
_REASON_LIMIT = 123  # bytes allowed in a close reason


@dataclass(frozen=True)
class Payload:
    """A recorded message to send as it was (text or binary)."""

    event: bytes
    binary: bool = False


@dataclass(frozen=True)
class CloseAction:
    code: int | None
    reason: str = ""


@dataclass(frozen=True)
class Mismatch:
    """A client message that did not match the recording."""

    index: int
    expected: str
    received: str
    nearest: str
    skipped: int = 0


def _get(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _signature(event: dict[str, Any] | None) -> tuple[Any, ...]:
    if event is None:
        return ("<non-JSON message>",)
    etype = event.get("type")
    return (etype, *(_get(event, f) for f in MATCH_FIELDS.get(str(etype), ())))


def describe(event: dict[str, Any] | None) -> str:
    """``type`` and its matched fields, e.g. ``conversation.item.create(message,user)``."""
    sig = _signature(event)
    head = str(sig[0])
    return head if len(sig) == 1 else f"{head}({','.join(str(v) for v in sig[1:])})"


@dataclass(frozen=True)
class Script:
    """What every playback of one recording shares, derived once from its messages.

    ``client``: the recorded client messages; ``client_t``: their offsets; ``blocks[0]``: the
    server messages before the first client message, ``blocks[i + 1]``: those that followed
    client message ``i``, each as ``(offset, payload)`` with the payload serialized once.

    Built per connection, this was ~17 000 objects for a 5-minute voice session: 50 clients
    connecting at once kept the event loop busy building them (plus the garbage collector's
    full passes over the growing heap) for ~1 s, so the first messages of most clients went out
    0.7-0.8 s late (bench/serve_realtime.py --full). Shared, a connection costs its first block.
    """

    client: tuple[dict[str, Any], ...]
    client_t: tuple[float, ...]
    blocks: tuple[tuple[tuple[float, Payload], ...], ...]


def script_of(recording: Recording) -> Script:
    """The recording's :class:`Script`, built on first use and cached on the recording.

    ``rtscope serve`` calls it before :func:`gc.freeze` so the shared objects are frozen too.
    """
    cached: Script | None = recording.cache.get("script")
    if cached is None:
        client: list[dict[str, Any]] = []
        client_t: list[float] = []
        blocks: list[list[tuple[float, Payload]]] = [[]]
        for msg in recording.messages:
            offset = recording.offset(msg) or 0.0
            if msg.get("from") == "client":
                client.append(msg)
                client_t.append(offset)
                blocks.append([])
            else:
                data, is_text = payload_of(msg)
                blocks[-1].append((offset, Payload(data, binary=not is_text)))
        cached = Script(tuple(client), tuple(client_t), tuple(tuple(b) for b in blocks))
        recording.cache["script"] = cached
    return cached


class Playback:
    """Playback of one recording for one client connection."""

    def __init__(
        self, recording: Recording, now: float, *, speed: float = 1.0, strict: bool = False
    ) -> None:
        self.recording = recording
        self.speed = speed if speed > 0 else 1.0
        self.strict = strict
        self.closed = False
        self.mismatches: list[Mismatch] = []
        # a deque: a released response block can queue thousands of messages, and list.pop(0)
        # moves them all at every send
        self._queue: deque[tuple[float, Payload | CloseAction]] = deque()
        self._last_at = now
        script = script_of(recording)
        self.client = script.client
        self._client_t = script.client_t
        self._blocks = script.blocks
        self.cursor = 0
        self._release(0, now, 0.0)
        if not self.client:
            self._schedule_close(now)

    # -- interface ------------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def due(self, now: float) -> list[Payload | CloseAction]:
        out: list[Payload | CloseAction] = []
        while not self.closed and self._queue and self._queue[0][0] <= now:
            _, action = self._queue.popleft()
            out.append(action)
            if isinstance(action, CloseAction):
                self.closed = True
        return out

    def receive(self, now: float, data: str | bytes) -> None:
        if self.closed:
            return
        event = _parse(data)
        sig = _signature(event)
        if self.cursor < len(self.client) and _signature(self._event(self.cursor)) == sig:
            self._advance(self.cursor, now)
            return
        ahead = self._find(sig, self.cursor + 1, self.cursor + 1 + _LOOKAHEAD)
        expected = describe(self._event(self.cursor)) if self.cursor < len(self.client) else "<end>"
        nearest = self._nearest(sig)
        if self.strict or ahead is None:
            mismatch = Mismatch(self.cursor, expected, describe(event), nearest)
            self.mismatches.append(mismatch)
            log.warning(
                "client message #%d: expected %s, received %s (nearest recorded: %s)%s",
                mismatch.index + 1,
                mismatch.expected,
                mismatch.received,
                mismatch.nearest,
                "" if self.strict else "; ignored",
            )
            if self.strict:
                self._refuse(now, mismatch)
            return
        self.mismatches.append(
            Mismatch(self.cursor, expected, describe(event), nearest, ahead - self.cursor)
        )
        log.warning(
            "client message #%d: expected %s, received %s; skipping %d recorded message(s)",
            self.cursor + 1,
            expected,
            describe(event),
            ahead - self.cursor,
        )
        for skipped in range(self.cursor, ahead):
            self._release(skipped + 1, now, self._client_t[skipped])
        self._advance(ahead, now)

    # -- internals ------------------------------------------------------------------------

    def _event(self, index: int) -> dict[str, Any] | None:
        event = self.client[index].get("event")
        return event if isinstance(event, dict) else None

    def _find(self, sig: tuple[Any, ...], start: int, stop: int) -> int | None:
        for index in range(start, min(stop, len(self.client))):
            if _signature(self._event(index)) == sig:
                return index
        return None

    def _nearest(self, sig: tuple[Any, ...]) -> str:
        best: tuple[int, int] | None = None
        for index in range(len(self.client)):
            other = _signature(self._event(index))
            score = (
                sum(a == b for a, b in zip(other, sig, strict=False)) * 2
                + (other[0] == sig[0]) * 10
            )
            key = (-score, abs(index - self.cursor))
            if best is None or key < best:
                best = (key[0], key[1])
                found = index
        if best is None or best[0] == 0:
            return "none"
        return f"#{found + 1} {describe(self._event(found))}"

    def _advance(self, index: int, now: float) -> None:
        self._release(index + 1, now, self._client_t[index])
        self.cursor = index + 1
        if self.cursor == len(self.client):
            self._schedule_close(self._last_at)

    def _release(self, block: int, now: float, origin: float) -> None:
        for offset, payload in self._blocks[block]:
            at = max(now + max(0.0, offset - origin) / self.speed, self._last_at)
            self._push(at, payload)

    def _schedule_close(self, at: float) -> None:
        close = self.recording.close
        if close is not None and close.get("by") == "server":
            code = close.get("code")
            delay = 0.0
            last = self.recording.messages[-1] if self.recording.messages else None
            end = self.recording.offset(last) if last else None
            close_t = self.recording.offset(close)
            if end is not None and close_t is not None:
                delay = max(0.0, close_t - end) / self.speed
            self._push(at + delay, CloseAction(code if code != 1006 else None,
                                               str(close.get("reason") or "")))  # fmt: skip

    def _push(self, at: float, action: Payload | CloseAction) -> None:
        self._last_at = max(at, self._last_at)
        self._queue.append((self._last_at, action))

    def _refuse(self, now: float, mismatch: Mismatch) -> None:
        message = (
            f"rtscope serve --strict: client message #{mismatch.index + 1} does not match the "
            f"recording: expected {mismatch.expected}, received {mismatch.received}; nearest "
            f"recorded match: {mismatch.nearest}"
        )
        error = {
            "type": "error",
            "event_id": f"event_rtscope_{mismatch.index + 1}",
            "error": {
                "type": "invalid_request_error",
                "code": "rtscope_replay_mismatch",
                "message": message,
                "param": None,
                "event_id": None,
            },
        }
        reason = (
            f"expected {mismatch.expected}, received {mismatch.received}, "
            f"nearest {mismatch.nearest}"
        )
        encoded = reason.encode("utf-8")[:_REASON_LIMIT].decode("utf-8", "ignore")
        self._queue = deque(
            [(now, Payload(orjson.dumps(error))), (now, CloseAction(1008, encoded))]
        )
        self._last_at = now


def _parse(data: str | bytes) -> dict[str, Any] | None:
    if isinstance(data, bytes):
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
