"""The terminal timeline as data: capture records in, :class:`Row` objects out (sans-I/O).

One row per event: seconds since the connection opened, direction, type and a summary
(:mod:`rtscope.report.summary`). Runs of delta events (``*.delta``, ``input_audio_buffer.append``)
uninterrupted by any other event of the same connection collapse into one row per type:
``response.output_audio.delta ×41  2.3 s audio  in 1.1 s``. Interleaved audio and transcript
deltas therefore give two rows, not eighty. Findings are attached to the row of the message that
shows them; a finding on a message hidden by ``--types`` gets a row of its own.

:func:`timeline` is a generator: it holds only the current run of deltas per connection, so it
streams captures of any length.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..analyzers.findings import Finding
from ..capture.codec import Record
from ..protocol.events import AUDIO_FIELDS
from .config import SessionConfig
from .summary import audio_bytes, format_ms, summarize, trim_middle

__all__ = ["Row", "is_delta", "timeline"]


def is_delta(event_type: str) -> bool:
    """Events that come in runs and collapse: streamed deltas and audio appends."""
    return event_type.endswith(".delta") or event_type == "input_audio_buffer.append"


@dataclass(slots=True)
class Row:
    """One line of the timeline.

    ``kind`` is ``"open"``, ``"close"``, ``"msg"`` (one event, or ``count`` collapsed deltas),
    ``"finding"`` (a finding whose message is not shown) or ``"note"``.
    ``t`` is seconds since the connection opened (``None`` when the capture has no times).
    """

    kind: str
    conn: str
    t: float | None
    direction: str | None = None
    type: str = ""
    summary: str = ""
    count: int = 1
    seq: int | None = None
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _Run:
    """Deltas of one type accumulating in the current run of a connection."""

    row: Row
    first_t: float | None
    last_t: float | None
    audio_ms: float | None = None
    text: list[str] = field(default_factory=list)
    text_len: int = 0


_TEXT_KEEP = 4000  # characters of streamed text kept per collapsed run (trimmed later anyway)


class _Conn:
    def __init__(self, conn: str) -> None:
        self.conn = conn
        self.t0: float | None = None
        self.config = SessionConfig()
        self.run: dict[str, _Run] = {}

    def rel(self, t: Any) -> float | None:
        if not isinstance(t, int | float):
            return None
        if self.t0 is None:
            self.t0 = float(t)
        return float(t) - self.t0


def timeline(
    records: Iterable[Record],
    findings: Sequence[Finding] = (),
    *,
    conn: str | None = None,
    types: Sequence[str] = (),
    collapse: bool = True,
) -> Iterator[Row]:
    """Rows for ``records``; ``conn`` keeps one connection, ``types`` are fnmatch globs."""
    by_msg: dict[tuple[str, int], list[Finding]] = {}
    by_conn: dict[str, list[Finding]] = {}
    for f in findings:
        if f.seq is None:
            by_conn.setdefault(f.conn, []).append(f)
        else:
            by_msg.setdefault((f.conn, f.seq), []).append(f)
    conns: dict[str, _Conn] = {}

    def wanted(etype: str) -> bool:
        return not types or any(fnmatch.fnmatchcase(etype, g) for g in types)

    def flush(state: _Conn) -> Iterator[Row]:
        for run in state.run.values():
            yield _finish(run)
        state.run.clear()

    for record in records:
        kind = record.get("kind")
        cid = record.get("conn")
        if not isinstance(cid, str) or (conn is not None and cid != conn):
            continue
        state = conns.get(cid)
        if state is None:
            state = conns[cid] = _Conn(cid)
            if cid in by_conn:
                yield Row("note", cid, None, summary="findings about the whole connection:")
                for f in by_conn.pop(cid):
                    yield Row("finding", cid, None, findings=[f])
        t = state.rel(record.get("t"))
        if kind == "open":
            yield from flush(state)
            status = record.get("status")
            yield Row("open", cid, t, None, "open", f"{record.get('url', '')} status={status}")
            continue
        if kind == "close":
            yield from flush(state)
            reason = record.get("reason") or ""
            by = record.get("by")
            text = f"code={record.get('code')}"
            if reason:
                text += " reason=" + repr(trim_middle(str(reason), 80))
            if by:
                text += f" by {by}"
            yield Row("close", cid, t, None, "close", text)
            continue
        if kind != "msg":
            continue
        seq = record.get("seq")
        direction = record.get("from")
        found = by_msg.pop((cid, seq), []) if isinstance(seq, int) else []
        event = record.get("event")
        if not isinstance(event, dict):
            yield from flush(state)
            etype, summary = _non_event(record)
            if wanted(etype):
                yield Row("msg", cid, t, direction, etype, summary, seq=seq, findings=found)
            else:
                yield from _loose(cid, t, found)
            continue
        etype = str(event.get("type", "?"))
        audio_ms = _audio_ms(event, etype, state.config)
        if is_delta(etype):
            if not wanted(etype):
                yield from _loose(cid, t, found)
                continue
            if not collapse:
                summary = summarize(event, audio_ms) or _delta_text(event, 60)
                yield Row("msg", cid, t, direction, etype, summary, seq=seq, findings=found)
                continue
            run = state.run.get(etype)
            if run is None:
                row = Row("msg", cid, t, direction, etype, seq=seq, count=0)
                run = state.run[etype] = _Run(row, t, t)
            run.row.count += 1
            run.row.findings.extend(found)
            run.last_t = t if t is not None else run.last_t
            if audio_ms is not None:
                run.audio_ms = (run.audio_ms or 0.0) + audio_ms
            piece = event.get("delta")
            if isinstance(piece, str) and not etype.endswith("audio.delta"):
                if run.text_len < _TEXT_KEEP:
                    run.text.append(piece)
                    run.text_len += len(piece)
            continue
        yield from flush(state)
        summary = summarize(event, audio_ms)
        changes = _session_changes(state.config, event)
        if changes is not None:
            summary = changes
        if wanted(etype):
            yield Row("msg", cid, t, direction, etype, summary, seq=seq, findings=found)
        else:
            yield from _loose(cid, t, found)
    for state in conns.values():
        yield from flush(state)
    # Findings that name a message not in the capture (or a connection never seen).
    for (cid, _), fs in by_msg.items():
        if conn is None or cid == conn:
            for f in fs:
                yield Row("finding", cid, None, findings=[f])
    for cid, fs in by_conn.items():
        if conn is None or cid == conn:
            for f in fs:
                yield Row("finding", cid, None, findings=[f])


def _loose(cid: str, t: float | None, found: list[Finding]) -> Iterator[Row]:
    for f in found:
        yield Row("finding", cid, t, findings=[f])


def _finish(run: _Run) -> Row:
    row = run.row
    bits = []
    if run.audio_ms is not None:
        bits.append(f"{format_ms(run.audio_ms)} audio")
    if run.text:
        bits.append('"' + trim_middle("".join(run.text).replace("\n", " "), 60) + '"')
    if row.count > 1 and run.first_t is not None and run.last_t is not None:
        bits.append(f"in {format_ms((run.last_t - run.first_t) * 1000)}")
    row.summary = "  ".join(bits)
    return row


def _delta_text(event: dict[str, Any], limit: int) -> str:
    piece = event.get("delta")
    if isinstance(piece, str) and not str(event.get("type", "")).endswith("audio.delta"):
        return '"' + trim_middle(piece.replace("\n", " "), limit) + '"'
    return ""


def _audio_ms(event: dict[str, Any], etype: str, config: SessionConfig) -> float | None:
    fields = AUDIO_FIELDS.get(etype)
    if not fields:
        return None
    n = audio_bytes(event.get(fields[0]))
    if n is None:
        return None
    direction = "input" if etype == "input_audio_buffer.append" else "output"
    return n / config.bytes_per_ms(direction)


def _session_changes(config: SessionConfig, event: dict[str, Any]) -> str | None:
    """For ``session.updated``: what changed; ``session.created`` keeps its full summary."""
    etype = event.get("type")
    before = config.session
    changes = config.apply(event)
    if changes is None or etype in ("session.created", "transcription_session.created"):
        return None
    if before is None:
        return None
    if not changes:
        return "no change"
    shown = [f"{c.path}: {_short(c.old)} → {_short(c.new)}" for c in changes[:4]]
    if len(changes) > 4:
        shown.append(f"+{len(changes) - 4} more")
    return "changed " + "; ".join(shown)


def _short(value: Any) -> str:
    if isinstance(value, list):
        text = "[" + ",".join(str(v) for v in value) + "]"
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return trim_middle(text, 40)


def _non_event(record: Record) -> tuple[str, str]:
    if "text" in record:
        return "(text)", '"' + trim_middle(str(record["text"]).replace("\n", " "), 70) + '"'
    size = record.get("size")
    return "(binary)", f"{size} bytes" if size is not None else ""
