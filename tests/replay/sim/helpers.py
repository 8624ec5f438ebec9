"""Drive the sans-I/O simulator with a virtual clock (no sockets, no sleeping)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from rtscope.replay.sim import Close, Send, SimOptions, Simulator
from rtscope.replay.sim.audio import tone


class Driver:
    """Feeds a :class:`Simulator` and collects ``(time, event)`` as the clock advances."""

    def __init__(self, dialect: str = "ga", **options: Any) -> None:
        self.sim = Simulator(dialect, SimOptions(seed=1, **options), now=0.0)  # type: ignore[arg-type]
        self.now = 0.0
        self.out: list[tuple[float, dict[str, Any]]] = []
        self.closes: list[Close] = []
        self.advance(0.0)

    def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while True:
            due = self.sim.next_due()
            if due is None or due > target:
                break
            for action in self.sim.due(due):
                if isinstance(action, Send):
                    self.out.append((due, action.event))
                else:
                    self.closes.append(action)
        self.now = target

    def send(self, event: dict[str, Any] | str | bytes, settle: float = 0.0) -> None:
        data = event if isinstance(event, str | bytes) else orjson.dumps(event).decode()
        self.sim.receive(self.now, data)
        self.advance(settle)

    def types(self) -> list[str]:
        return [e["type"] for _, e in self.out]

    def of(self, etype: str) -> list[dict[str, Any]]:
        return [e for _, e in self.out if e["type"] == etype]

    def take(self) -> list[dict[str, Any]]:
        events = [e for _, e in self.out]
        self.out.clear()
        return events

    def speak(self, speech_ms: int = 600, silence_ms: int = 700, chunk_ms: int = 100) -> None:
        audio = tone(speech_ms, "pcm16", freq=200.0) + bytes(48 * silence_ms)
        for start in range(0, len(audio), 48 * chunk_ms):
            chunk = base64.b64encode(audio[start : start + 48 * chunk_ms]).decode()
            self.send({"type": "input_audio_buffer.append", "audio": chunk})


def error_codes(events: list[dict[str, Any]]) -> list[str | None]:
    return [e["error"]["code"] for e in events if e["type"] == "error"]
