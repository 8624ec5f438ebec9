"""Event sequences made comparable: delta runs collapsed, ids normalized (pure functions).

:func:`steps` turns the message records of a connection into :class:`Step` values:

- a run of consecutive ``*.delta`` events (interleaved audio and transcript deltas included)
  becomes one step listing each delta type with its count;
- each id (item, response, call, session, conversation) becomes ``item#1``, ``resp#2``… in
  order of first appearance, so two sessions with different ids compare equal; event ids vanish;
- each step keeps only what tells sessions apart: event type, modalities, content and part types,
  statuses and status reasons, error codes, roles, item types.

Used by ``rtscope diff`` and the replayer's divergence check; the report may reuse it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IdNormalizer", "Step", "attributes", "steps"]

_ID_PREFIXES = {
    "item": "item",
    "resp": "resp",
    "call": "call",
    "sess": "sess",
    "conv": "conv",
    "msg": "item",
}
_ID_KEYS = ("item_id", "previous_item_id", "response_id", "call_id")


class IdNormalizer:
    """``item_BUZ…`` → ``item#1`` (per kind, in order of first appearance)."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def __call__(self, value: Any, kind: str = "id") -> Any:
        if not isinstance(value, str) or not value:
            return value
        name = self._names.get(value)
        if name is None:
            prefix = _ID_PREFIXES.get(value.split("_", 1)[0], kind)
            self._counts[prefix] = self._counts.get(prefix, 0) + 1
            name = self._names[value] = f"{prefix}#{self._counts[prefix]}"
        return name


@dataclass(frozen=True)
class Step:
    """One comparable step of a session."""

    side: str
    type: str
    attrs: tuple[tuple[str, Any], ...] = ()
    count: int = 1
    t: float | None = None
    seq: int | None = None
    deltas: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    @property
    def key(self) -> tuple[Any, ...]:
        """What alignment compares: side, type and attributes (not counts nor times)."""
        return (self.side, self.type, self.attrs)

    def describe(self) -> str:
        bits = [f"{k}={_show(v)}" for k, v in self.attrs]
        if self.deltas:
            bits.append(", ".join(f"{t}×{n}" for t, n in self.deltas))
        inner = f" ({'; '.join(bits)})" if bits else ""
        return f"{self.side[0].upper()} {self.type}{inner}"


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def _content_types(content: Any) -> tuple[str, ...]:
    if not isinstance(content, list):
        return ()
    return tuple(str(p.get("type")) for p in content if isinstance(p, dict))


def attributes(event: dict[str, Any], ids: IdNormalizer) -> tuple[tuple[str, Any], ...]:
    """The comparable attributes of one event (sorted ``(name, value)`` pairs)."""
    out: dict[str, Any] = {}
    session = event.get("session")
    if isinstance(session, dict):
        for key in ("modalities", "output_modalities"):
            if isinstance(session.get(key), list):
                out["modalities"] = tuple(sorted(session[key]))
        if "type" in session and event.get("type", "").startswith("session.update"):
            out["session.type"] = session.get("type")
    response = event.get("response")
    if isinstance(response, dict):
        for key in ("modalities", "output_modalities"):
            if isinstance(response.get(key), list):
                out["modalities"] = tuple(sorted(response[key]))
        if "status" in response:
            out["status"] = response.get("status")
        details = response.get("status_details")
        if isinstance(details, dict):
            reason = details.get("reason") or (details.get("error") or {}).get("code")
            if reason:
                out["reason"] = reason
        output = response.get("output")
        if isinstance(output, list):
            out["output"] = tuple(
                f"{o.get('type')}:{'+'.join(_content_types(o.get('content'))) or '-'}"
                for o in output
                if isinstance(o, dict)
            )
        if "id" in response and event.get("type") == "response.created":
            out["id"] = ids(response["id"], "resp")
    item = event.get("item")
    if isinstance(item, dict):
        out["item.type"] = item.get("type")
        if item.get("role"):
            out["role"] = item.get("role")
        if "status" in item:
            out["item.status"] = item.get("status")
        types = _content_types(item.get("content"))
        if types:
            out["content"] = types
        if "id" in item:
            out["item.id"] = ids(item["id"], "item")
    part = event.get("part")
    if isinstance(part, dict):
        out["part"] = part.get("type")
    error = event.get("error")
    if isinstance(error, dict):
        out["code"] = error.get("code")
    for key in _ID_KEYS:
        if key in event:
            out[key] = ids(event[key], key.split("_")[0] if key != "response_id" else "resp")
    return tuple(sorted(out.items()))


def steps(records: Iterable[dict[str, Any]], side: str = "both") -> list[Step]:
    """The steps of the ``msg`` records of one connection (``side``: client, server or both)."""
    ids = IdNormalizer()
    out: list[Step] = []
    run: dict[str, int] = {}
    run_start: dict[str, Any] | None = None

    def flush() -> None:
        nonlocal run, run_start
        if run and run_start is not None:
            out.append(
                Step(
                    run_start["from"],
                    "deltas",
                    (("types", tuple(sorted(run))),),
                    sum(run.values()),
                    run_start.get("t"),
                    run_start.get("seq"),
                    tuple(sorted(run.items())),
                )
            )
        run, run_start = {}, None

    for record in records:
        if record.get("kind") != "msg":
            continue
        direction = record.get("from")
        if side != "both" and direction != side:
            continue
        event = record.get("event")
        if not isinstance(event, dict):
            flush()
            kind = "text" if "text" in record else "binary"
            out.append(Step(str(direction), f"<{kind} message>", (), 1, record.get("t")))
            continue
        etype = str(event.get("type"))
        if etype.endswith(".delta") and direction == "server":
            if run_start is None:
                run_start = record
            run[etype] = run.get(etype, 0) + 1
            for key in _ID_KEYS:
                if key in event:
                    ids(event[key])
            continue
        if etype == "input_audio_buffer.append":
            # Appends are the client's audio stream: a run of them is one step too.
            if out and out[-1].type == etype and not run:
                last = out[-1]
                out[-1] = Step(last.side, etype, (), last.count + 1, last.t, last.seq)
                continue
        flush()
        out.append(
            Step(
                str(direction), etype, attributes(event, ids), 1, record.get("t"), record.get("seq")
            )  # fmt: skip
        )
    flush()
    return out
