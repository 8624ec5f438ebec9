"""Sans-I/O parts of the client replayer: timing, acknowledgements, id rewriting, lateness.

- :data:`ACKS`: which server events answer a client event (protocol reference §2.1); an
  ``error`` answers any of them. ``input_audio_buffer.append`` expects nothing.
- :class:`AckTracker`: for ``--timing ack``, which sent message still waits for its answer.
- :class:`IdMap`: server-assigned ids (items, responses, calls) are numbered in order of first
  appearance, in the recording and in the new session; a client reference to the k-th recorded
  id is rewritten to the k-th new one. A reference whose counterpart is not (yet) known is
  reported, never silently sent.
- :func:`target_offset` and :func:`lateness_stats`: when each message is due, and how late the
  shell actually was.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from ..protocol.acks import ACKS  # one table of acknowledgements, shared with the analyzers

__all__ = [
    "ACKS",
    "AckTracker",
    "IdMap",
    "Timing",
    "lateness_stats",
    "parse_timings",
    "target_offset",
]

Timing = Literal["original", "ack", "asap"]
TIMINGS: tuple[Timing, ...] = ("original", "ack", "asap")


def parse_timings(value: str) -> list[Timing]:
    """``"original,ack"`` → ``["original", "ack"]``; raises ``ValueError`` naming a bad one."""
    out: list[Timing] = []
    for part in value.split(","):
        name = part.strip()
        if name not in TIMINGS:
            raise ValueError(f"unknown timing {name!r} (use original, ack or asap)")
        if name not in out:
            out.append(name)
    return out


def target_offset(timing: Timing, recorded_offset: float, speed: float, shift: float) -> float:
    """Seconds after the connection opened at which a message is due.

    ``shift`` is the time already spent waiting for acks (``ack`` keeps the recorded gaps and
    adds the waits); ``asap`` sends at once."""
    if timing == "asap":
        return 0.0
    base = max(0.0, recorded_offset) / (speed if speed > 0 else 1.0)
    return base + (shift if timing == "ack" else 0.0)


@dataclass
class AckTracker:
    """Which sent message, if any, still waits for its answer (the last one that expects one)."""

    pending: str | None = None

    def sent(self, event_type: str) -> None:
        if event_type in ACKS:
            self.pending = event_type

    def received(self, event_type: str) -> None:
        if self.pending is not None and (event_type == "error" or event_type in ACKS[self.pending]):
            self.pending = None


def _server_ids(event: dict[str, Any]) -> list[tuple[str, str]]:
    """``(kind, id)`` of the server-side ids an event introduces, in reading order."""
    out: list[tuple[str, str]] = []
    response = event.get("response")
    if event.get("type") == "response.created" and isinstance(response, dict):
        rid = response.get("id")
        if isinstance(rid, str):
            out.append(("response", rid))
    item = event.get("item")
    if isinstance(item, dict):
        if isinstance(item.get("id"), str):
            out.append(("item", item["id"]))
        if item.get("type") == "function_call" and isinstance(item.get("call_id"), str):
            out.append(("call", item["call_id"]))
    for key in ("item_id",):
        if isinstance(event.get(key), str):
            out.append(("item", event[key]))
    if isinstance(event.get("response_id"), str):
        out.append(("response", event["response_id"]))
    return out


@dataclass
class IdMap:
    """Maps recorded server ids to the new session's, by order of first appearance."""

    recorded: dict[str, list[str]] = field(default_factory=dict)
    seen: dict[str, list[str]] = field(default_factory=dict)
    _recorded_index: dict[str, tuple[str, int]] = field(default_factory=dict)
    _seen_set: set[str] = field(default_factory=set)
    client_ids: set[str] = field(default_factory=set)
    unmapped: list[str] = field(default_factory=list)

    def learn_recorded(self, events: list[dict[str, Any]]) -> None:
        """The recording's server events, in order (and its client events, which may name ids
        of their own: a client-chosen item id is not rewritten)."""
        for event in events:
            for kind, value in _server_ids(event):
                if value in self._recorded_index or value in self.client_ids:
                    continue
                ids = self.recorded.setdefault(kind, [])
                self._recorded_index[value] = (kind, len(ids))
                ids.append(value)

    def note_client(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if event.get("type") == "conversation.item.create" and isinstance(item, dict):
            if isinstance(item.get("id"), str):
                self.client_ids.add(item["id"])

    def learn(self, event: dict[str, Any]) -> None:
        """One event of the new session."""
        for kind, value in _server_ids(event):
            if value in self._seen_set:
                continue
            self._seen_set.add(value)
            self.seen.setdefault(kind, []).append(value)

    def _map(self, value: Any, where: str) -> Any:
        if not isinstance(value, str) or value in self.client_ids:
            return value
        found = self._recorded_index.get(value)
        if found is None:
            return value
        kind, index = found
        seen = self.seen.get(kind, [])
        if index < len(seen):
            return seen[index]
        self.unmapped.append(f"{where}={value} ({kind} #{index + 1}, not seen in the new session)")
        return value

    def rewrite(self, event: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
        """A copy of a client event with its references to server ids rewritten."""
        out = copy.deepcopy(event)
        label = f"#{seq} {event.get('type')}" if seq is not None else str(event.get("type"))
        for key in ("item_id", "previous_item_id", "response_id", "call_id"):
            if key in out:
                out[key] = self._map(out[key], f"{label} {key}")
        item = out.get("item")
        if isinstance(item, dict) and "call_id" in item:
            item["call_id"] = self._map(item["call_id"], f"{label} item.call_id")
        return out


def lateness_stats(lateness_s: list[float]) -> dict[str, float]:
    """p50/p99/max (milliseconds) of how late each message went out; empty → zeros."""
    if not lateness_s:
        return {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(lateness_s)

    def pct(p: float) -> float:
        index = min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))
        return round(ordered[index] * 1000, 3)

    return {
        "count": len(ordered),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 3),
    }
