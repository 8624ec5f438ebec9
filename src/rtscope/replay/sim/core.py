"""The simulator's sans-I/O core: one Realtime session as a state machine.

Theory of operation. The shell owns the socket and the clock; the core owns everything else:

- :meth:`Simulator.receive` takes one client message and the current time and *schedules* the
  server's answers (events, or a close) at times of their own;
- :meth:`Simulator.due` returns, in order, every scheduled action whose time has come, applying
  its side effects as it goes (a response stops being active when its ``response.done`` is due);
- :meth:`Simulator.next_due` tells the shell how long it may wait for the next client message.

A response is scheduled whole when it starts (its deltas paced by ``delta_interval_ms``); a
cancel or a barge-in drops the rest of it (actions carry the response id as a tag) and schedules
the finishing events. Every behaviour follows the protocol reference (realtime-protocol.md);
faults are injected only by the named scenario in :class:`~.scenarios.SimOptions`.
"""

from __future__ import annotations

from typing import Any

import orjson

from .base import ACK_S, Close, Send, SimAction
from .input import InputMixin
from .items import ItemsMixin
from .responses import ResponsesMixin
from .session import (
    Refusal,
    apply_update,
    modalities_of,
)

__all__ = ["Close", "Send", "SimAction", "Simulator"]

_HANDLED = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
)


class Simulator(ResponsesMixin, ItemsMixin, InputMixin):
    """One simulated Realtime session (see :class:`~.base.SessionBase` for the arguments)."""

    def receive(self, now: float, data: str | bytes) -> None:
        """One client message (a text frame as ``str``, a binary frame as ``bytes``)."""
        if self.closed:
            return
        self._apply_pending(now)
        if isinstance(data, bytes):
            self._refuse(now, "invalid_event", "Binary frames are not supported; send JSON text.")
            return
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._refuse(
                now,
                "invalid_event",
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
            )
            return
        if not isinstance(event, dict):
            self._refuse(now, "invalid_event", "Expected an object, but got a different type.")
            return
        client_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        etype = event.get("type")
        if not isinstance(etype, str):
            self._refuse(now, "invalid_event", "The 'type' field is missing.", "type", client_id)
            return
        if etype not in _HANDLED:
            supported = ", ".join(f"'{t}'" for t in _HANDLED)
            self._refuse(
                now,
                "invalid_event",
                f"Invalid value: '{etype}'. Supported values are: {supported}.",
                "type",
                client_id,
            )
            return
        handler = getattr(self, "_on_" + etype.replace(".", "_"))
        handler(now, event, client_id)

    # -- session ---------------------------------------------------------------------------

    def _on_session_update(self, now: float, event: dict[str, Any], client_id: str | None) -> None:
        base = self._requested
        result = apply_update(
            base, event.get("session"), self.dialect, audio_sent=self._assistant_audio
        )
        if isinstance(result, Refusal):
            self._schedule(
                now + ACK_S,
                Send(self._error(result.code, result.message, result.param, client_id)),
            )
            return
        changed = modalities_of(result, self.dialect) != modalities_of(base, self.dialect)
        at = now + ACK_S
        if self.options.scenario == "modality-race" and (changed or self._pending is not None):
            at = max(
                now + self.options.race_delay_ms / 1000, self._pending[0] if self._pending else 0.0
            )
            self._pending = (at, result)
        else:
            self.session = result
        self._schedule(at, Send(self._event("session.updated", session=result)))
