"""Base of the simulator's session: state, the schedule of actions, and shared helpers.

The session is split by subject into mixins over :class:`SessionBase` (``input.py``: audio
buffer and VAD; ``items.py``: conversation items; ``responses.py``: responses), assembled in
:class:`~.core.Simulator`. Everything here is sans-I/O: times come in as arguments.
"""

from __future__ import annotations

import heapq
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .scenarios import SimOptions
from .session import (
    Dialect,
    default_session,
)

__all__ = ["Close", "Send", "SessionBase", "SimAction"]

_ALNUM = string.ascii_letters + string.digits
ACK_S = 0.005


@dataclass(frozen=True)
class Send:
    """Send this event (a dict, serialized by the shell)."""

    event: dict[str, Any]


@dataclass(frozen=True)
class Close:
    """Close the connection; ``code=None`` drops the TCP connection with no close frame."""

    code: int | None
    reason: str = ""


SimAction = Send | Close


@dataclass(order=True)
class _Scheduled:
    at: float
    order: int
    action: SimAction = field(compare=False)
    tag: str | None = field(compare=False, default=None)
    on_emit: Callable[[], None] | None = field(compare=False, default=None)


@dataclass
class _Response:
    id: str
    modalities: list[str]
    echo: dict[str, Any]
    item_id: str | None = None
    text: str = ""
    emitted: list[str] = field(default_factory=list)
    audio_bytes: int = 0
    function_call: dict[str, Any] | None = None
    deltas_sent: int = 0


class _LazySend(Send):
    """A :class:`Send` whose event is built when it is due (``response.done`` reports what was
    actually emitted before it)."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_built", None)

    @property
    def event(self) -> dict[str, Any]:
        built: dict[str, Any] | None = object.__getattribute__(self, "_built")
        if built is None:
            built = object.__getattribute__(self, "_build")()
            object.__setattr__(self, "_built", built)
        return built


class SessionBase:
    """One simulated Realtime session.

    Args:
        dialect: ``"ga"`` or ``"beta"`` (the shell decides from the handshake).
        options: scenario and timing knobs.
        now: the current time (seconds, the shell's monotonic clock).
        rng: source of ids (pass a seeded one for reproducible ids).
        epoch: wall-clock time (Unix seconds) at ``now``, for ``session.expires_at``; default
            the current time.
    """

    def __init__(
        self,
        dialect: Dialect,
        options: SimOptions | None = None,
        now: float = 0.0,
        rng: random.Random | None = None,
        epoch: float | None = None,
    ) -> None:
        self.dialect: Dialect = dialect
        self.options = options or SimOptions()
        self.start_time = now
        self._rng = rng or random.Random(self.options.seed)
        self._queue: list[_Scheduled] = []
        self._order = 0
        self._dropped: set[str] = set()
        self.closed = False
        self.session = default_session(
            dialect,
            self._id("sess_"),
            self.options.model,
            int((time.time() if epoch is None else epoch) + self.options.session_limit_s),
        )
        self._pending: tuple[float, dict[str, Any]] | None = None
        self._conversation_id = self._id("conv_")
        self.items: list[dict[str, Any]] = []
        self._item_audio_ms: dict[str, int] = {}
        self._buffer = bytearray()
        self._carry = b""
        self._stream_ms = 0
        self._speaking = False
        self._speech_item: str | None = None
        self._last_speech_end = 0
        self.active: _Response | None = None
        self.responses = 0
        self._assistant_audio = False
        self._schedule(now, Send(self._event("session.created", session=self.session)))
        if dialect == "beta":
            conversation = {"id": self._conversation_id, "object": "realtime.conversation"}
            self._schedule(
                now, Send(self._event("conversation.created", conversation=conversation))
            )
        limit = self.options.session_limit_s
        minutes = f"{limit / 60:g}"
        message = f"Your session hit the maximum duration of {minutes} minutes."
        self._schedule(now + limit, Send(self._error("session_expired", message, None)))
        self._schedule(now + limit, Close(1001, message))

    # -- shell interface -------------------------------------------------------------------

    # -- shell interface -------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next scheduled action is due, or ``None`` when nothing is scheduled."""
        while self._queue and self._queue[0].tag in self._dropped:
            heapq.heappop(self._queue)
        return self._queue[0].at if self._queue else None

    def due(self, now: float) -> list[SimAction]:
        """Every action due at ``now``, in order; side effects of each are applied."""
        out: list[SimAction] = []
        while not self.closed and self._queue and self._queue[0].at <= now:
            item = heapq.heappop(self._queue)
            if item.tag is not None and item.tag in self._dropped:
                continue
            if item.on_emit is not None:
                item.on_emit()
            out.append(item.action)
            if isinstance(item.action, Close):
                self.closed = True
                self._queue.clear()
        return out

    # -- helpers ---------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return prefix + "".join(self._rng.choice(_ALNUM) for _ in range(21))

    def _event(self, etype: str, **fields: Any) -> dict[str, Any]:
        return {"type": etype, "event_id": self._id("event_"), **fields}

    def _error(
        self,
        code: str | None,
        message: str,
        param: str | None,
        client_id: str | None = None,
        etype: str = "invalid_request_error",
    ) -> dict[str, Any]:
        error = {
            "type": etype,
            "code": code,
            "message": message,
            "param": param,
            "event_id": client_id,
        }
        return self._event("error", error=error)

    def _schedule(
        self,
        at: float,
        action: SimAction,
        tag: str | None = None,
        on_emit: Callable[[], None] | None = None,
    ) -> None:
        self._order += 1
        heapq.heappush(self._queue, _Scheduled(at, self._order, action, tag, on_emit))

    def _send(self, at: float, etype: str, tag: str | None = None, **fields: Any) -> None:
        self._schedule(at, Send(self._event(etype, **fields)), tag)

    def _refuse(
        self,
        now: float,
        code: str | None,
        message: str,
        param: str | None = None,
        client_id: str | None = None,
    ) -> None:
        self._schedule(now + ACK_S, Send(self._error(code, message, param, client_id)))

    def _apply_pending(self, now: float) -> None:
        if self._pending is not None and now >= self._pending[0]:
            self.session = self._pending[1]
            self._pending = None

    @property
    def _requested(self) -> dict[str, Any]:
        """The session as last accepted (what session.updated says), applied or not yet."""
        return self._pending[1] if self._pending is not None else self.session

    def _find(self, item_id: Any) -> int | None:
        for index, item in enumerate(self.items):
            if item.get("id") == item_id:
                return index
        return None

    def _previous_id(self) -> str | None:
        return str(self.items[-1]["id"]) if self.items else None

    def _add_item(self, now: float, item: dict[str, Any], previous: Any = None) -> None:
        """Insert ``item`` and schedule its ack (beta ``created``; GA ``added`` + ``done``)."""
        if previous == "root":
            index, prev_id = 0, None
        elif isinstance(previous, str):
            found = self._find(previous)
            assert found is not None
            index, prev_id = found + 1, previous
        else:
            index, prev_id = len(self.items), self._previous_id()
        self.items.insert(index, item)
        if self.dialect == "beta":
            self._send(now, "conversation.item.created", previous_item_id=prev_id, item=item)
        else:
            self._send(now, "conversation.item.added", previous_item_id=prev_id, item=item)
            self._send(now, "conversation.item.done", previous_item_id=prev_id, item=item)

    # -- implemented by the mixins ---------------------------------------------------------

    def _start_response(self, now: float, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def _cancel(self, now: float, reason: str) -> None:
        raise NotImplementedError
