"""Pasted logs: Realtime events found in free text, as capture records.

A forum post or a bug report holds events between prose, headings, bullet points and code
fences: one per line or pretty-printed over many lines, as JSON, Python dict reprs, JavaScript
console objects or YAML documents (see the module docstrings of :mod:`.relaxed` and
:mod:`.yamlish`). :func:`scan_text` finds them, in order:

1. Brace objects: every ``{`` (or ``Name(`` of a printed SDK model) starts a candidate; its
   end is found by a bracket matcher that skips string literals (a string never spans lines,
   so an apostrophe in prose cannot swallow the rest of the text). The whole text is scanned
   in linear time: a ``{`` that never closes is reported (when it looks like an event) and the
   objects nested in it are still used.
2. YAML documents: a ``type: <event.type>`` line outside any brace object, with the block of
   ``key: value`` lines around it (bounded by ``---``, code fences, blank or prose lines).

A value is an event when it is an object whose ``type`` is a dotted name (``session.update``) or
``error``; events wrapped in a log record (``{"direction": "in", "event": {…}}``, a YAML
document with ``sender``/``timestamp``/``content``) are unwrapped and the wrapper's time and
direction used. Text before an object on its line, or a short label line just above it
(``Sent:``, ``12:01:02.345 <<``), also gives time and direction. Direction follows the event
type when the type is a known client event; otherwise a direction hint from the log is used
for names that do not look like server events; else the event is the server's.

Parts that cannot be read are returned as problems with their line; the rest is kept. Pure:
text in, events and problems out; never raises.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ...protocol.events import CLIENT_EVENT_TYPES
from .relaxed import RelaxedError, parse_relaxed
from .yamlish import YamlError, load_block, split_key

__all__ = ["PastedEvent", "ScanResult", "direction_for", "is_event_type", "scan_text"]

_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
# A quoted-string-aware tokenizer for bracket matching; strings never span lines.
_TOKEN = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[{}\[\]()]|[^"'{}\[\]()]+|["']""")
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
# Where an object may start: a brace, or a model repr ``SessionCreatedEvent(`` (openai SDK).
_START = re.compile(r"\{|\b[A-Z][A-Za-z0-9_]*\(")
_TYPE_HINT = re.compile(r"""["']?type["']?\s*[:=]\s*["'][a-z_]+(?:\.[a-z0-9_]+)+["']""")
_YAML_TYPE_LINE = re.compile(
    r"""^\s*(?:-\s+)?["']?type["']?\s*:\s*(["']?)([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+|error)\1\s*$"""
)
_SERVER_SHAPED = re.compile(
    r"(?:^error$|\.(?:created|updated|done|delta|added|completed|failed|started|stopped|"
    r"committed|cleared|truncated|deleted|retrieved|segment|in_progress|timeout_triggered)$)"
)
_CLIENT_WORDS = re.compile(
    r"(?i)(?:\b(?:sent|send|sending|outgoing|request|req|tx|client|c2s|upstream)\b|->|→|>>|⬆|↑)"
)
_SERVER_WORDS = re.compile(
    r"(?i)(?:\b(?:received|receive|receiving|recv|incoming|response|resp|rx|server|s2c|"
    r"downstream)\b|<-|←|<<|⬇|↓)"
)
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_CLOCK_TIME = re.compile(r"(?<![\d:.])(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?![\d:])")
_EPOCH = re.compile(r"(?<![\d.])1\d{9}(?:\.\d+)?(?![\d])|(?<![\d.])1\d{12}(?![\d.])")
_TIME_KEYS = ("timestamp", "time", "ts", "t", "date", "datetime", "@timestamp", "created_at")
_DIRECTION_KEYS = ("direction", "sender", "from", "source", "dir", "origin", "side")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LABEL_MAX = 100
_TEXT_START = re.compile(r"[\[{]")
Problem = tuple[int, str, str | None]  # line, what, hint
_MAX_DEPTH = 6


@dataclass
class PastedEvent:
    """One event found in the text: where (1-based line), when (seconds) and who sent it."""

    event: dict[str, Any]
    line: int
    offset: int
    t: float | None = None
    clock: bool = False  # t is a time of day (no date in the log)
    hint: str | None = None  # "client" / "server" from the log's own words


@dataclass
class ScanResult:
    events: list[PastedEvent] = field(default_factory=list)
    problems: list[tuple[int, str, str | None]] = field(default_factory=list)  # line, what, hint


def is_event_type(value: object) -> bool:
    """A Realtime event type name: dotted lower-case (``response.done``) or ``error``."""
    return isinstance(value, str) and (value == "error" or bool(_EVENT_TYPE.match(value)))


def direction_for(event_type: str, hint: str | None) -> str:
    """``client`` or ``server``: the type decides when known, else the log's hint."""
    if event_type in CLIENT_EVENT_TYPES:
        return "client"
    if hint == "client" and not _SERVER_SHAPED.search(event_type):
        return "client"
    return "server"


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for match in re.finditer("\n", text):
            self.starts.append(match.end())

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset)

    def line_text(self, number: int) -> str:
        start = self.starts[number - 1]
        end = self.starts[number] - 1 if number < len(self.starts) else len(self.text)
        return self.text[start:end]


def scan_text(text: str) -> ScanResult:
    """Find every Realtime event in ``text`` (see the module docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = _Lines(text)
    result = ScanResult()
    spans = _scan_braces(text, lines, result)
    _scan_yaml(text, lines, spans, result)
    result.events.sort(key=lambda e: e.offset)
    _fix_clock_rollover(result.events)
    result.problems.sort(key=lambda p: p[0])
    return result


# --- brace objects --------------------------------------------------------------------------


def _match(text: str, start: int, closed: dict[int, int]) -> tuple[int | None, int]:
    """End of the bracket group opened at ``start`` (or None) and how far the scan went.

    Records in ``closed`` every ``{`` group that closed along the way (reused for nested
    objects of a group that never closes, so the text is scanned once).
    """
    stack: list[tuple[str, int]] = []
    for match in _TOKEN.finditer(text, start):
        token = match.group()
        if token in _CLOSERS:
            stack.append((_CLOSERS[token], match.start()))
        elif token in ("}", "]", ")"):
            if not stack or stack[-1][0] != token:
                return None, match.start()
            _, opened = stack.pop()
            closed[opened] = match.end()
            if not stack:
                return match.end(), match.end()
    return None, len(text)


def _scan_braces(text: str, lines: _Lines, result: ScanResult) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    failures: list[tuple[int, int, Problem | None]] = []
    closed: dict[int, int] = {}
    scanned_to = -1
    pos = 0
    while True:
        found = _START.search(text, pos)
        if found is None:
            break
        start = found.start()
        opener = found.end() - 1  # the "{" or the "(" of a model repr
        if opener in closed:
            end: int | None = closed[opener]
        elif opener < scanned_to:
            pos = start + 1  # inside a region already scanned: not an object of its own
            continue
        else:
            end, scanned_to = _match(text, opener, closed)
        if end is None:
            if _TYPE_HINT.search(text, start, min(len(text), start + 400)):
                where = lines.line_of(start)
                result.problems.append(
                    (
                        where,
                        "an event object is not closed ('{' without its '}'); skipped",
                        "the paste may be cut off; events after it were still read",
                    )
                )
            pos = start + 1
            continue
        spans.append((start, end))
        floor = spans[-2][1] if len(spans) > 1 else 0
        readable, problem = _take_object(text, start, end, floor, lines, result)
        if readable:
            pos = end
        else:
            # Not an object literal (a code block, a repr with odd values): look inside it,
            # its nested objects may be events. Report it only if none is.
            failures.append((start, end, problem))
            pos = start + 1
    for start, end, problem in failures:
        if problem and not any(start <= e.offset < end for e in result.events):
            result.problems.append(problem)
    return spans


def _take_object(
    text: str, start: int, end: int, floor: int, lines: _Lines, result: ScanResult
) -> tuple[bool, Problem | None]:
    chunk = text[start:end]
    line = lines.line_of(start)
    try:
        value = parse_relaxed(chunk)
    except RelaxedError as exc:
        if _TYPE_HINT.search(chunk[:400]):
            return False, (
                lines.line_of(start + exc.pos),
                f"cannot read this event object: {exc}; skipped",
                "fix the object by hand or paste the raw JSON",
            )
        return False, None
    except RecursionError:
        return False, (line, "object nested too deeply; skipped", None)
    t, clock, hint = _context_before(text, start, floor, lines)
    found = _events_in(value, t, clock, hint, 0)
    if not found and _looks_broken(value):
        result.problems.append(
            (
                line,
                "an object with an event_id but no event 'type' was skipped",
                "every Realtime event has a string 'type'",
            )
        )
    for event, ev_t, ev_clock, ev_hint in found:
        result.events.append(PastedEvent(event, line, start, ev_t, ev_clock, ev_hint))
    return True, None


def _looks_broken(value: Any) -> bool:
    return isinstance(value, dict) and (
        ("type" in value and not isinstance(value["type"], str)) or "event_id" in value
    )


def _context_before(
    text: str, start: int, floor: int, lines: _Lines
) -> tuple[float | None, bool, str | None]:
    """Time and direction from the text before an object: its line (after any earlier object on
    it), or a label line above."""
    line_no = lines.line_of(start)
    line_start = lines.starts[line_no - 1]
    prefix = text[max(line_start, floor) : start]
    if floor > line_start and not any(c.isalnum() for c in prefix):
        # ", " between objects of one line ([{…}, {…}]): they share the line's label
        first = _TEXT_START.search(text, line_start, start)
        prefix = text[line_start : first.start()] if first else ""
    candidates = [prefix] if prefix.strip() else []
    if not prefix.strip() and line_no > 1 and floor <= line_start:
        above = lines.line_text(line_no - 1).strip()
        if above and len(above) <= _LABEL_MAX and not _FENCE.match(above):
            labelled = above.endswith(":") or _ISO_TIME.search(above) or _CLOCK_TIME.search(above)
            if labelled or (len(above) <= 60 and _hint_in_text(above)):  # "↓ server …"
                candidates.append(above)
    t: float | None = None
    clock = False
    hint: str | None = None
    for candidate in candidates:
        candidate = candidate[-_LABEL_MAX * 2 :]
        if t is None:
            t, clock = _time_in_text(candidate)
        if hint is None:
            hint = _hint_in_text(_strip_times(candidate))
    return t, clock, hint


def _strip_times(text: str) -> str:
    return _CLOCK_TIME.sub(" ", _ISO_TIME.sub(" ", text))


def _hint_in_text(text: str) -> str | None:
    client = _CLIENT_WORDS.search(text)
    server = _SERVER_WORDS.search(text)
    if client and server:
        return "client" if client.start() > server.start() else "server"  # the nearest wins
    if client:
        return "client"
    if server:
        return "server"
    return None


def _time_in_text(text: str) -> tuple[float | None, bool]:
    iso = _ISO_TIME.search(text)
    if iso:
        return _parse_iso(iso.group()), False
    clock = _CLOCK_TIME.search(text)
    if clock:
        h, m, s, frac = clock.groups()
        if int(h) < 24 and int(m) < 60 and int(s) < 61:
            seconds = int(h) * 3600 + int(m) * 60 + int(s) + (float("0." + frac) if frac else 0.0)
            return seconds, True
    epoch = _EPOCH.search(text)
    if epoch:
        return _epoch(float(epoch.group())), False
    return None, False


def _parse_iso(value: str) -> float | None:
    value = value.replace(",", ".").replace(" ", "T", 1)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.match(r"^(.*?\.\d{6})\d+(.*)$", value)
    if match:  # more than microseconds (C#'s 7 digits)
        value = match.group(1) + match.group(2)
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _epoch(value: float) -> float | None:
    if 1e9 <= value < 1e11:
        return value
    if 1e12 <= value < 1e14:
        return value / 1e3
    if 1e15 <= value < 1e17:
        return value / 1e6
    return None


def _time_value(value: Any) -> tuple[float | None, bool]:
    if isinstance(value, bool):
        return None, False
    if isinstance(value, int | float):
        return _epoch(float(value)), False
    if isinstance(value, str):
        text = value.strip()
        try:
            return _epoch(float(text)), False
        except ValueError:
            return _time_in_text(text)
    return None, False


def _direction_value(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in ("client", "sent", "send", "out", "outgoing", "outbound", "tx", "up", "request"):
        return "client"
    if word in ("server", "received", "receive", "in", "incoming", "inbound", "rx", "down"):
        return "server"
    return _hint_in_text(word)


def _events_in(
    value: Any, t: float | None, clock: bool, hint: str | None, depth: int
) -> list[tuple[dict[str, Any], float | None, bool, str | None]]:
    """Events in a parsed value; wrappers lend their time and direction to what they hold."""
    if depth > _MAX_DEPTH:
        return []
    if isinstance(value, list):
        out = []
        for item in value:
            out.extend(_events_in(item, t, clock, hint, depth + 1))
        return out
    if not isinstance(value, dict):
        return []
    if is_event_type(value.get("type")):
        return [(value, t, clock, hint)]
    for key in _TIME_KEYS:
        if key in value:
            found_t, found_clock = _time_value(value[key])
            if found_t is not None:
                t, clock = found_t, found_clock
                break
    for key in _DIRECTION_KEYS:
        if key in value:
            found = _direction_value(value[key])
            if found:
                hint = found
                break
    out = []
    for item in value.values():
        if isinstance(item, str) and item.lstrip()[:1] == "{" and '"type"' in item:
            try:
                item = orjson.loads(item)  # an event logged as a JSON string
            except orjson.JSONDecodeError:
                continue
        if isinstance(item, dict | list):
            out.extend(_events_in(item, t, clock, hint, depth + 1))
    return out


# --- YAML documents -------------------------------------------------------------------------


def _yamlish(line: str) -> bool:
    stripped = line.strip()
    if stripped.startswith("- ") or stripped == "-":
        return True
    pair = split_key(stripped)
    return pair is not None and re.fullmatch(r"[A-Za-z_@$][\w.$@-]*", pair[0]) is not None


def _scan_yaml(text: str, lines: _Lines, spans: list[tuple[int, int]], result: ScanResult) -> None:
    raw_lines = text.split("\n")
    covered = _covered_lines(spans, lines, len(raw_lines))
    used = [False] * len(raw_lines)
    for index, line in enumerate(raw_lines):
        if used[index] or covered[index] or not _YAML_TYPE_LINE.match(line):
            continue
        first = index
        while first > 0 and _in_block(raw_lines[first - 1], covered[first - 1]):
            first -= 1
        last = index
        while last + 1 < len(raw_lines) and _in_block(raw_lines[last + 1], covered[last + 1]):
            last += 1
        for k in range(first, last + 1):
            used[k] = True
        block = raw_lines[first : last + 1]
        try:
            value = load_block(block)
        except YamlError as exc:
            where = min(first + 1 + (exc.line or 0), last + 1)
            result.problems.append(
                (where, f"cannot read this YAML event: {exc}; skipped", "check its indentation")
            )
            continue
        except RecursionError:
            result.problems.append((first + 1, "YAML nested too deeply; skipped", None))
            continue
        offset = lines.starts[index]
        for event, t, clock, hint in _events_in(value, None, False, None, 0):
            result.events.append(PastedEvent(event, index + 1, offset, t, clock, hint))
            offset += 1


def _in_block(line: str, covered: bool) -> bool:
    if covered or not line.strip():
        return False
    stripped = line.strip()
    if stripped in ("---", "...") or _FENCE.match(line):
        return False
    return _yamlish(line) or (line[:1] in (" ", "\t") and not stripped.startswith(("{", "}")))


def _covered_lines(spans: list[tuple[int, int]], lines: _Lines, count: int) -> list[bool]:
    covered = [False] * count
    for start, end in spans:
        for number in range(lines.line_of(start), lines.line_of(max(start, end - 1)) + 1):
            if 0 < number <= count:
                covered[number - 1] = True
    return covered


def _fix_clock_rollover(events: list[PastedEvent]) -> None:
    """Times of day that go backwards by more than 12 h crossed midnight."""
    day = 0.0
    last: float | None = None
    for event in events:
        if not event.clock or event.t is None:
            continue
        value = event.t + day
        if last is not None and value < last - 43200:
            day += 86400.0
            value += 86400.0
        event.t = value
        last = value
