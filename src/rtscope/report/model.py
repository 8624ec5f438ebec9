"""What the HTML report shows, computed from records (sans-I/O; :mod:`.html` renders it).

For each connection: its events (type, summary, trimmed JSON), the session config over time,
responses as spans with their outcome, user speech spans from VAD events, per-turn latency
(trigger → ``response.created`` → first output → ``response.done``) and audio clips (the user's
input stream, each assistant audio item).

Size limits keep long sessions usable: each event's JSON is cut to :data:`MAX_JSON_CHARS` and
base64 audio inside it is replaced by its size; at most ``max_events`` events get a row (the rest
are counted); at most ``max_audio_s`` seconds of audio, in event order across all clips of the
report, are embedded (so a long session keeps its first minutes of both sides, complete). The page
says what it cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..analyzers.findings import Finding
from ..capture.codec import Record
from ..protocol.events import AUDIO_FIELDS
from .config import BYTES_PER_MS, Change, SessionConfig, modalities
from .summary import audio_bytes, decode_audio, summarize, trim_middle

__all__ = [
    "MAX_JSON_CHARS",
    "Clip",
    "ConfigStep",
    "ConnView",
    "EventView",
    "Report",
    "Span",
    "Turn",
    "build_report",
]

MAX_JSON_CHARS = 6000
DEFAULT_MAX_EVENTS = 20000
DEFAULT_MAX_AUDIO_S = 180.0


@dataclass(slots=True)
class EventView:
    index: int
    conn: str
    seq: int | None
    t: float | None
    direction: str | None
    type: str
    summary: str
    body: str
    findings: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Span:
    """A response (``outcome``: audio, text, function, failed, cancelled, incomplete, pending)
    or a user speech span (``outcome`` ``speech``); ``end`` is ``None`` when it never ended."""

    kind: str
    start: float
    end: float | None
    outcome: str
    label: str
    event: int
    end_event: int | None = None


@dataclass(slots=True)
class Turn:
    response_id: str
    trigger: str
    trigger_t: float | None
    created_t: float
    first_output_t: float | None = None
    first_output: str = ""
    done_t: float | None = None
    outcome: str = "pending"
    event: int = 0

    @property
    def to_created_ms(self) -> float | None:
        return None if self.trigger_t is None else (self.created_t - self.trigger_t) * 1000

    @property
    def to_first_ms(self) -> float | None:
        return (
            None if self.first_output_t is None else (self.first_output_t - self.created_t) * 1000
        )

    @property
    def to_done_ms(self) -> float | None:
        if self.done_t is None:
            return None
        start = self.first_output_t if self.first_output_t is not None else self.created_t
        return (self.done_t - start) * 1000


@dataclass(slots=True)
class ConfigStep:
    t: float | None
    event: int
    type: str
    summary: str
    changes: list[Change] = field(default_factory=list)


@dataclass(slots=True)
class Clip:
    label: str
    fmt: str
    event: int
    data: bytearray = field(default_factory=bytearray)
    ms: float = 0.0
    kept_ms: float = 0.0
    dropped: bool = False  # recorded with --audio drop: sizes only
    transcript: str = ""

    @property
    def truncated(self) -> bool:
        return self.kept_ms + 0.5 < self.ms and not self.dropped


@dataclass
class ConnView:
    source: str
    conn: str
    url: str = ""
    status: Any = None
    close: str = ""
    t_end: float = 0.0
    events: list[EventView] = field(default_factory=list)
    hidden_events: int = 0
    spans: list[Span] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    config: list[ConfigStep] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.source}#{self.conn}"


@dataclass
class Report:
    conns: list[ConnView]
    findings: list[Finding]
    #: finding index → event indexes that show it (first is the main one)
    finding_events: dict[int, list[int]]
    events_total: int
    events_shown: int
    trimmed_json: int
    problems: list[str] = field(default_factory=list)


class _Budget:
    """Milliseconds of audio the page may still embed (shared by every clip of a report)."""

    def __init__(self, seconds: float) -> None:
        self.ms = seconds * 1000


class _Builder:
    def __init__(self, source: str, conn: str, budget: _Budget) -> None:
        self.view = ConnView(source, conn)
        self.t0: float | None = None
        self.config = SessionConfig()
        self.responses: dict[str, Span] = {}
        self.resp_audio: dict[str, bool] = {}
        self.resp_text: dict[str, bool] = {}
        self.turns: dict[str, Turn] = {}
        self.speech: Span | None = None
        self.trigger: tuple[str, float | None] | None = None
        self.input_clip: Clip | None = None
        self.item_clips: dict[str, Clip] = {}
        self.budget = budget

    def rel(self, t: Any) -> float | None:
        if not isinstance(t, int | float):
            return None
        if self.t0 is None:
            self.t0 = float(t)
        rel = float(t) - self.t0
        self.view.t_end = max(self.view.t_end, rel)
        return rel

    def add_audio(self, clip: Clip, value: Any) -> None:
        n = audio_bytes(value)
        if n is None:
            return
        per_ms = BYTES_PER_MS.get(clip.fmt, 48)
        clip.ms += n / per_ms
        if not isinstance(value, str):
            clip.dropped = True
            return
        if clip.data and clip.kept_ms + 0.5 < clip.ms - n / per_ms:
            return  # a gap: this clip already lost audio, keep it contiguous
        if n / per_ms > self.budget.ms:
            self.budget.ms = 0.0
            return
        raw = decode_audio(value)
        if raw:
            clip.data.extend(raw)
            clip.kept_ms += len(raw) / per_ms
            self.budget.ms -= len(raw) / per_ms

    def _item_audio(self, ev: EventView, item: Any) -> None:
        """A clip for the ``input_audio`` parts of an item the client created (if any)."""
        if not isinstance(item, dict) or not isinstance(item.get("content"), list):
            return
        parts = [
            part.get("audio")
            for part in item["content"]
            if isinstance(part, dict) and part.get("type") == "input_audio" and "audio" in part
        ]
        if not parts:
            return
        name = item.get("id") if isinstance(item.get("id"), str) else f"#{ev.index}"
        clip = Clip(f"user audio item {name}", self.config.format("input"), ev.index)
        self.view.clips.append(clip)
        for audio in parts:
            self.add_audio(clip, audio)

    def on_event(self, ev: EventView, event: dict[str, Any], t: float | None) -> None:
        etype = ev.type
        when = t if t is not None else float(ev.index)
        changes = self.config.apply(event)
        if changes is not None or etype in ("session.update", "transcription_session.update"):
            self.view.config.append(ConfigStep(t, ev.index, etype, ev.summary, changes or []))
        if etype == "error" and self.view.config:
            last = self.view.config[-1]
            if last.type.endswith("session.update"):
                self.view.config.append(ConfigStep(t, ev.index, etype, ev.summary))
        if etype == "input_audio_buffer.append":
            if self.input_clip is None:
                self.input_clip = Clip("user input audio", self.config.format("input"), ev.index)
                self.view.clips.append(self.input_clip)
            self.add_audio(self.input_clip, event.get("audio"))
        elif etype in AUDIO_FIELDS and etype.startswith("response."):
            item = str(event.get("item_id", "?"))
            rid = str(event.get("response_id", ""))
            clip = self.item_clips.get(item)
            if clip is None:
                label = f"assistant audio, item {item}" + (f" ({rid})" if rid else "")
                clip = Clip(label, self.config.format("output"), ev.index)
                self.item_clips[item] = clip
                self.view.clips.append(clip)
            self.add_audio(clip, event.get("delta"))
            self._first_output(rid, t, "audio")
            self.resp_audio[rid] = True
        elif etype == "conversation.item.create" and ev.direction == "client":
            self._item_audio(ev, event.get("item"))
        elif etype.endswith(".delta") and etype.startswith("response."):
            rid = str(event.get("response_id", ""))
            self.resp_text[rid] = True
            self._first_output(rid, t, _delta_kind(etype))
        if etype in ("response.output_audio_transcript.done", "response.audio_transcript.done"):
            clip = self.item_clips.get(str(event.get("item_id", "")))
            if clip is not None and isinstance(event.get("transcript"), str):
                clip.transcript = event["transcript"]
        if etype == "input_audio_buffer.speech_started":
            self.speech = Span("speech", when, None, "speech", "user speech", ev.index)
            self.view.spans.append(self.speech)
        elif etype == "input_audio_buffer.speech_stopped":
            if self.speech is not None and self.speech.end is None:
                self.speech.end = when
                self.speech.end_event = ev.index
            self.speech = None
            self.trigger = ("speech stopped", t)
        elif etype in ("input_audio_buffer.commit", "response.create") and ev.direction == "client":
            if self.trigger is None or etype == "response.create":
                self.trigger = (etype, t)
        elif etype == "response.created":
            self._response_created(ev, event, when, t)
        elif etype == "response.done":
            self._response_done(ev, event, when, t)

    def _first_output(self, rid: str, when: float | None, what: str) -> None:
        """The first audio of a response; the first other delta only while no audio came."""
        turn = self.turns.get(rid)
        if turn is None or when is None or turn.first_output == "audio":
            return
        if turn.first_output_t is None or what == "audio":
            turn.first_output_t = when
            turn.first_output = what

    def _response_created(
        self, ev: EventView, event: dict[str, Any], when: float, t: float | None
    ) -> None:
        response = event.get("response")
        response = response if isinstance(response, dict) else {}
        rid = str(response.get("id", f"#{ev.index}"))
        mods = modalities(response)
        label = rid + (f" {'+'.join(mods)}" if mods else "")
        span = Span("response", when, None, "pending", label, ev.index)
        self.responses[rid] = span
        self.view.spans.append(span)
        trigger, trigger_t = self.trigger if self.trigger else ("", None)
        self.trigger = None
        if t is None:
            return  # no times in this capture: no latency to measure
        turn = Turn(rid, trigger, trigger_t, t, event=ev.index)
        self.turns[rid] = turn
        self.view.turns.append(turn)

    def _response_done(
        self, ev: EventView, event: dict[str, Any], when: float, t: float | None
    ) -> None:
        response = event.get("response")
        response = response if isinstance(response, dict) else {}
        rid = str(response.get("id", ""))
        outcome = _outcome(response, self.resp_audio.get(rid, False))
        span = self.responses.get(rid)
        if span is None:  # a done without a created: draw it as an instant
            span = Span("response", when, when, outcome, rid or "response", ev.index)
            self.view.spans.append(span)
        span.end = when
        span.end_event = ev.index
        span.outcome = outcome
        turn = self.turns.get(rid)
        if turn is not None:
            turn.done_t = t
            turn.outcome = outcome


def _delta_kind(etype: str) -> str:
    if "transcript" in etype:
        return "transcript"
    if "text" in etype:
        return "text"
    if "arguments" in etype:
        return "function call"
    return etype.rsplit(".", 2)[-2]


def _outcome(response: dict[str, Any], saw_audio: bool) -> str:
    status = response.get("status")
    if status in ("failed", "cancelled", "incomplete"):
        return str(status)
    kinds: set[str] = set()
    output = response.get("output")
    for item in output if isinstance(output, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            kinds.add("function")
        for part in item.get("content") or []:
            if isinstance(part, dict):
                kinds.add("audio" if "audio" in str(part.get("type")) else "text")
    if saw_audio or "audio" in kinds:
        return "audio"
    if "text" in kinds:
        return "text"
    if "function" in kinds:
        return "function"
    return "empty"


def _scrub(value: Any, depth: int = 0) -> Any:
    """A copy of an event for display: base64 audio replaced by its size, long strings cut."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, sub in value.items():
            if key in ("audio", "delta") and isinstance(sub, str) and len(sub) > 64:
                n = audio_bytes(sub)
                out[key] = f"[base64 audio, {n} bytes]" if key == "audio" else _maybe_audio(sub)
            else:
                out[key] = _scrub(sub, depth + 1)
        return out
    if isinstance(value, list):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, str) and len(value) > 2000:
        return trim_middle(value, 2000)
    return value


def _maybe_audio(text: str) -> str:
    # A long delta with no space is base64 audio; text deltas keep their words.
    if " " in text:
        return trim_middle(text, 2000)
    return f"[base64 audio, {audio_bytes(text)} bytes]"


def _body(record: Record) -> tuple[str, bool]:
    if isinstance(record.get("event"), dict):
        data: Any = _scrub(record["event"])
    else:
        data = {k: v for k, v in record.items() if k not in ("kind",)}
        if isinstance(data.get("data_b64"), str):
            data["data_b64"] = f"[{len(data['data_b64'])} base64 characters]"
        data = _scrub(data)
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
    if len(text) > MAX_JSON_CHARS:
        return trim_middle(text, MAX_JSON_CHARS), True
    return text, False


def build_report(
    sources: Iterable[tuple[str, Iterable[Record]]],
    findings: Sequence[Finding] = (),
    *,
    max_events: int = DEFAULT_MAX_EVENTS,
    max_audio_s: float = DEFAULT_MAX_AUDIO_S,
) -> Report:
    """Build the report model; ``sources`` are ``(name, records)`` pairs.

    ``findings`` carry a ``conn`` that is either a connection id or ``"<source>#<conn>"`` when
    several sources share connection ids.
    """
    conns: list[ConnView] = []
    budget = _Budget(max_audio_s)
    index = 0
    shown = 0
    trimmed = 0
    seq_to_event: dict[tuple[str, str, int], int] = {}
    first_event: dict[tuple[str, str], int] = {}
    for source, records in sources:
        builders: dict[str, _Builder] = {}
        for record in records:
            cid = record.get("conn")
            kind = record.get("kind")
            if not isinstance(cid, str) or kind not in ("open", "msg", "close"):
                continue
            b = builders.get(cid)
            if b is None:
                b = builders[cid] = _Builder(source, cid, budget)
                conns.append(b.view)
            t = b.rel(record.get("t"))
            event = record.get("event")
            if kind == "open":
                b.view.url = str(record.get("url", ""))
                b.view.status = record.get("status")
                etype, summary = "open", f"{b.view.url} status={b.view.status}"
            elif kind == "close":
                etype = "close"
                summary = f"code={record.get('code')}"
                if record.get("reason"):
                    summary += f" reason={record.get('reason')!r}"
                if record.get("by"):
                    summary += f" by {record.get('by')}"
                b.view.close = summary
            elif isinstance(event, dict):
                etype = str(event.get("type", "?"))
                summary = summarize(event)
            else:
                etype = "(text)" if "text" in record else "(binary)"
                summary = trim_middle(str(record.get("text", f"{record.get('size')} bytes")), 80)
            direction = record.get("from") if kind == "msg" else None
            seq = record.get("seq") if kind == "msg" else None
            body, cut = _body(record) if shown < max_events else ("", False)
            trimmed += cut
            ev = EventView(index, cid, seq, t, direction, etype, summary, body)
            first_event.setdefault((source, cid), index)
            if isinstance(seq, int):
                seq_to_event[(source, cid, seq)] = index
            if shown < max_events:
                b.view.events.append(ev)
                shown += 1
            else:
                b.view.hidden_events += 1
            if isinstance(event, dict):
                b.on_event(ev, event, t)
            index += 1
        for b in builders.values():
            for clip in b.view.clips:
                if clip.dropped:
                    clip.data.clear()
    finding_events = _link_findings(findings, seq_to_event, first_event, conns)
    return Report(conns, list(findings), finding_events, index, shown, trimmed)


def _link_findings(
    findings: Sequence[Finding],
    seq_to_event: dict[tuple[str, str, int], int],
    first_event: dict[tuple[str, str], int],
    conns: list[ConnView],
) -> dict[int, list[int]]:
    by_index = {ev.index: ev for c in conns for ev in c.events}
    sources = [c.source for c in conns]
    out: dict[int, list[int]] = {}
    for i, f in enumerate(findings):
        source, cid = _where(f.conn, sources)
        seqs: list[int] = [f.seq] if f.seq is not None else []
        seqs += [s for s in _detail_seqs(f.details) if s not in seqs]
        linked: list[int] = []
        for seq in seqs:
            for src in [source] if source else sorted(set(sources)):
                idx = seq_to_event.get((src, cid, seq))
                if idx is not None:
                    linked.append(idx)
                    break
        if not linked:
            for src in [source] if source else sorted(set(sources)):
                if (src, cid) in first_event:
                    linked.append(first_event[(src, cid)])
                    break
        out[i] = linked
        for idx in linked:
            ev = by_index.get(idx)
            if ev is not None:
                ev.findings.append(i)
    return out


def _where(conn: str, sources: list[str]) -> tuple[str | None, str]:
    if "#" in conn:
        source, _, cid = conn.rpartition("#")
        if source in sources:
            return source, cid
    return None, conn


def _detail_seqs(details: dict[str, Any]) -> list[int]:
    """Sequence numbers that a finding's evidence names (keys containing ``seq``)."""
    out: list[int] = []
    for key, value in details.items():
        if "seq" not in key:
            continue
        values = value if isinstance(value, list) else [value]
        out += [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return out
