"""The state of one Realtime connection, tracked over capture records (sans-I/O).

:class:`SessionState` is fed the records of one connection in order (:meth:`SessionState.apply`)
and keeps what every rule needs, so no rule re-parses events:

- the dialect of each event, and which dialects each side used;
- the effective configuration: ``session.created`` overlaid by each ``session.updated`` (never the
  client's ``session.update`` alone, which may have been refused), with its history;
- client events waiting for their acknowledgement (table in :mod:`rtscope.protocol.acks`), and
  errors linked to the client event that caused them (protocol notes §4);
- conversation items, responses (created → done, parts, audio ms, status, usage), function calls;
- the input audio buffer (ms appended since the last commit/clear), VAD state and speech spans;
- the handshake and the close.

It never raises on odd input: what does not fit is recorded in :attr:`SessionState.violations`
(server-side ordering problems) or simply counted. Audio is counted from base64 lengths, never
decoded. Records without ``t`` (pasted logs) leave times as ``None``.

Each applied message yields a :class:`Msg` annotated with what it did (the response, item, client
request or error it concerns), which is what rules look at. The bulk of a voice session (audio,
transcript and text deltas, appends) can instead be counted by :meth:`SessionState.apply_counted`
without a :class:`Msg`, when the state proves the event changes nothing but counters.

Memory stays flat over long sessions (``make soak``; a voice session runs for an hour, the
recorder for days): everything that grows per event is a window of the most recent entries, sized
by :class:`Limits`, and each window counts what it dropped (:meth:`SessionState.retained`,
:meth:`SessionState.dropped`). Rules only ever look back at recent things (the response being
produced, the item being played, the update not yet acknowledged), so findings are the same as
with unbounded lists unless a session refers further back than a window. What changes then:

- a ``conversation.item.truncate`` of an item more than ``items + item_kinds`` items back is not
  judged (unknown item); within ``item_kinds`` only its type, role and audio are kept
  (:meth:`SessionState.item_kind`), which is all ``truncate-out-of-range`` reads;
- an event for a response more than ``responses`` responses back is a new, never-created response;
  responses in progress are never dropped before done ones;
- errors, requests, updates, config changes, speech spans, tool outputs and parts older than their
  window are not seen by the rules that look back at them (details may list fewer seqs); the error
  codes ever seen are kept apart (``error_codes``), so "was there a session_expired" stays exact;
- function calls: answered ones are dropped first, unanswered ones only beyond ``unanswered_calls``.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import orjson

from .acks import ACKS, ERROR_CODE_SOURCES
from .config import as_list, bytes_per_ms, normalize_session
from .dialect import Dialect, dialect_of
from .events import direction_of

__all__ = [
    "ClientRequest",
    "ConfigChange",
    "ErrorInfo",
    "FunctionCall",
    "Item",
    "ItemKind",
    "LIMITS",
    "Limits",
    "Msg",
    "Response",
    "SessionState",
    "SpeechSpan",
    "Violation",
    "Window",
    "b64_len",
    "track",
]

#: Server events that belong to one response and carry its ``response_id``.
_RESPONSE_EVENT_PREFIX = "response."
_DELTA_AUDIO = frozenset({"response.audio.delta", "response.output_audio.delta"})
_AUDIO_DONE = frozenset({"response.audio.done", "response.output_audio.done"})
_TEXT_EVENTS = frozenset(
    {
        "response.text.delta",
        "response.text.done",
        "response.output_text.delta",
        "response.output_text.done",
    }
)
_PART_EVENTS = frozenset(
    {
        "response.text.delta",
        "response.text.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.audio.delta",
        "response.audio.done",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.audio_transcript.delta",
        "response.audio_transcript.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
    }
)
_TRANSCRIPT_DELTA = frozenset(
    {"response.audio_transcript.delta", "response.output_audio_transcript.delta"}
)
_ITEM_ADDED = frozenset({"conversation.item.created", "conversation.item.added"})
#: The bulk of a voice session, which :meth:`SessionState.apply_counted` can count without a
#: :class:`Msg`: audio appends and deltas, transcript and text deltas. Each with the dialect its
#: name alone gives (``dialect_of`` agrees: these names are dialect-specific or neutral).
COUNTED_EVENTS: dict[str, Dialect | None] = {
    "input_audio_buffer.append": None,
    "response.output_audio.delta": "ga",
    "response.audio.delta": "beta",
    "response.output_audio_transcript.delta": "ga",
    "response.audio_transcript.delta": "beta",
    "response.output_text.delta": "ga",
    "response.text.delta": "beta",
    "conversation.item.input_audio_transcription.delta": None,
}
_TEXT_DELTA = frozenset({"response.output_text.delta", "response.text.delta"})
#: the key of :attr:`SessionState.dialects` a counted server event needs to have been seen
#: (one tuple per dialect: :meth:`SessionState.apply_counted` compares them by identity)
_SERVER_DIALECT: dict[Dialect, tuple[str, Dialect]] = {
    "ga": ("server", "ga"),
    "beta": ("server", "beta"),
}
_COUNTED_DIALECT: dict[str, tuple[str, Dialect] | None] = {
    etype: None if dialect is None else _SERVER_DIALECT[dialect]
    for etype, dialect in COUNTED_EVENTS.items()
}
_APPEND_KEYS = frozenset({"type", "event_id", "audio"})
_TRANSCRIPTION_DONE = frozenset(
    {
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
    }
)


def b64_len(value: Any) -> int:
    """Decoded byte count of base64 text (``len*3/4`` minus padding), or of a dropped-audio digest.

    Captures written with ``--audio drop`` hold ``{"bytes": N, "sha256": …}`` instead of the text.
    """
    if isinstance(value, str):
        n = len(value)
        pad = 2 if value.endswith("==") else 1 if value.endswith("=") else 0
        return max(0, n * 3 // 4 - pad)
    if isinstance(value, dict) and isinstance(value.get("bytes"), int):
        return int(value["bytes"])
    return 0


#: Acknowledged requests of these types are not kept: no rule reads them after their ack, and a
#: client-side VAD commits several times a second for hours (make soak grew the recorder 14 MiB).
_FORGET_WHEN_ACKED = frozenset({"input_audio_buffer.commit", "input_audio_buffer.clear"})

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Limits:
    """How many of each kind of entry one connection's model keeps (the newest ones).

    Sized so that a window covers far more than any rule looks back (a turn makes 2-4 items, one
    response, one or two updates), and so that 50 connections of an hour each stay within a few
    MiB. A voice turn costs about 1 KiB of model state; the big part, retained events (a
    ``session.update`` with long instructions is 20 KiB), is only held by the request windows.
    """

    #: conversation items with every detail (audio, truncation, transcription)
    items: int = 64
    #: older items as (type, role, audio): what judging a truncate of an old item needs (a turn
    #: makes 2-4 items: 320 items are ~100 turns; 1 024 took `make soak` 7 minutes to fill)
    item_kinds: int = 256
    #: responses (those still in progress are dropped last)
    responses: int = 64
    #: client requests (not appends), for error correlation and "sent between update and ack"
    requests: int = 256
    #: requests still waiting for their acknowledgement
    pending: int = 256
    updates: int = 32
    config_history: int = 32
    errors: int = 256
    #: distinct error codes remembered (``error_codes``)
    error_codes: int = 64
    violations: int = 256
    spans: int = 64
    client_items: int = 64
    #: seqs of seeded system items and assistant text items (``text-only-response``'s history)
    history_items: int = 256
    outputs: int = 64
    calls: int = 64
    unanswered_calls: int = 1024
    committed_user_items: int = 256
    parts: int = 256


#: the limits every :class:`SessionState` uses unless given others
LIMITS = Limits()


class Window(deque[_T]):
    """A deque of the newest ``maxlen`` entries that counts how many it dropped (``dropped``)."""

    def __init__(self, iterable: Iterable[_T] = (), maxlen: int | None = None) -> None:
        super().__init__(iterable, maxlen)
        self.dropped = 0

    def append(self, x: _T) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            self.dropped += 1
        super().append(x)


class ItemKind(NamedTuple):
    """What is kept of an item once its details are dropped (see :class:`Limits`)."""

    type: str | None
    role: str | None
    audio_ms: float | None
    #: audio deltas, or audio content, were seen for it
    has_audio: bool


@dataclass(slots=True)
class Msg:
    """One message of the connection, with what the state learned from it."""

    seq: int
    t: float | None
    frm: str
    type: str
    event: dict[str, Any]
    dialect: Dialect | None = None
    #: the client request this client event opened, or that this server event acknowledged
    request: ClientRequest | None = None
    response: Response | None = None
    item: Item | None = None
    error: ErrorInfo | None = None
    violations: list[Violation] = field(default_factory=list)
    #: for ``response.create``: responses in progress when it was sent
    active_before: list[Response] = field(default_factory=list)
    #: for ``input_audio_buffer.commit``: ms buffered when it was sent (None: unknown format)
    buffered_ms: float | None = None
    #: for a config change (``session.created``/``session.updated``): the change
    config: ConfigChange | None = None


@dataclass(slots=True)
class ClientRequest:
    """A client event that expects an acknowledgement (or produced an error)."""

    seq: int
    t: float | None
    type: str
    event: dict[str, Any]
    event_id: str | None
    ack_seq: int | None = None
    ack_t: float | None = None
    error: ErrorInfo | None = None
    #: rules that already reported this event (a later error about it is then explained)
    flagged_by: set[str] = field(default_factory=set)

    @property
    def resolved(self) -> bool:
        return self.ack_seq is not None or self.error is not None


@dataclass(slots=True)
class ErrorInfo:
    """An ``error`` event and the client event it was linked to (and how)."""

    seq: int
    t: float | None
    code: str | None
    type: str | None
    message: str
    param: str | None
    event_id: str | None
    request: ClientRequest | None = None
    #: "event_id", "code", "param", "timing" or None (unlinked)
    link: str | None = None
    #: set by a rule that explains this error more specifically than ``server-error``
    explained_by: str | None = None


@dataclass(slots=True)
class ConfigChange:
    """The effective configuration after a ``session.created``/``session.updated``."""

    seq: int
    t: float | None
    type: str
    config: dict[str, Any]
    changed: dict[str, Any]
    request: ClientRequest | None = None


@dataclass(slots=True)
class Item:
    """A conversation item as the server (or the client's create) described it."""

    id: str | None
    type: str | None
    role: str | None
    content_types: list[str]
    seq: int
    t: float | None
    source: str
    call_id: str | None = None
    name: str | None = None
    response_id: str | None = None
    audio_bytes: int = 0
    audio_ms: float | None = None
    first_audio_t: float | None = None
    truncated_ms: int | None = None
    transcription_done: bool = False


@dataclass(slots=True)
class Response:
    """One response from ``response.created`` to ``response.done``."""

    id: str
    created_seq: int | None = None
    created_t: float | None = None
    done_seq: int | None = None
    done_t: float | None = None
    status: str | None = None
    status_details: Any = None
    #: modalities the server echoed for this response (``response.created``/``.done``), if any
    echoed_modalities: list[str] | None = None
    #: effective session modalities when it was created
    config_modalities: list[str] | None = None
    #: modalities requested by the ``response.create`` that it answered, if any
    requested_modalities: list[str] | None = None
    request: ClientRequest | None = None
    output_format: str | None = None
    part_types: list[str] = field(default_factory=list)
    content_types: set[str] = field(default_factory=set)
    item_ids: list[str] = field(default_factory=list)
    audio_bytes: int = 0
    audio_ms: float | None = None
    first_audio_t: float | None = None
    text_events: int = 0
    #: characters of the assistant's audio transcript (deltas), for audio/transcript ratios
    transcript_chars: int = 0
    events: int = 0
    last_seq: int | None = None
    last_t: float | None = None
    last_type: str | None = None
    usage: dict[str, Any] | None = None
    conversation: str | None = None

    @property
    def modalities(self) -> list[str] | None:
        """What this response was supposed to produce: echo, else request, else session config."""
        for value in (self.echoed_modalities, self.requested_modalities, self.config_modalities):
            if value is not None:
                return value
        return None

    @property
    def audio_tokens(self) -> int | None:
        usage = self.usage if isinstance(self.usage, dict) else {}
        details = usage.get("output_token_details")
        if isinstance(details, dict) and isinstance(details.get("audio_tokens"), int):
            return int(details["audio_tokens"])
        return None

    @property
    def produced_audio(self) -> bool:
        """Any sign of audio: an audio part, audio deltas, audio content, or audio tokens."""
        return (
            "audio" in self.part_types
            or self.audio_bytes > 0
            or bool(self.content_types & {"audio", "output_audio"})
            or bool(self.audio_tokens)
        )


@dataclass(slots=True)
class FunctionCall:
    call_id: str
    name: str | None
    item_id: str | None
    response_id: str | None
    seq: int
    t: float | None
    output: ClientRequest | None = None
    #: the first response.create / response.created after the output was sent
    followed_seq: int | None = None


@dataclass(slots=True)
class SpeechSpan:
    start_seq: int
    start_t: float | None
    audio_start_ms: Any
    item_id: str | None
    stop_seq: int | None = None
    stop_t: float | None = None
    audio_end_ms: Any = None
    #: the response that was producing audio when speech started, if any
    interrupted: Response | None = None


@dataclass(slots=True)
class Violation:
    """A server event out of its lifecycle (rule ``lifecycle-violation`` reports these)."""

    seq: int
    t: float | None
    kind: str
    text: str
    response_id: str | None = None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _identical(a: Any, b: Any) -> bool:
    """Equal and of the same shape (``1 == 1.0 == True``, but a finding prints them apart)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, str):
        return bool(a == b)
    try:
        return bool(orjson.dumps(a) == orjson.dumps(b))
    except TypeError:
        return False


#: shared ItemKinds without audio (most items: user turns, tool calls), a few dozen at most
_KINDS: dict[ItemKind, ItemKind] = {}


def _kind_of(item: Item) -> ItemKind:
    has_audio = item.audio_bytes > 0 or bool({"audio", "output_audio"} & set(item.content_types))
    kind = ItemKind(item.type, item.role, item.audio_ms, has_audio)
    if kind.audio_ms is None:
        shared = _KINDS.get(kind)
        if shared is not None:
            return shared
        if len(_KINDS) < 64:
            _KINDS[kind] = kind
    return kind


def _part_key(ev: dict[str, Any]) -> tuple[str | int | None, ...]:
    """(item_id, output_index, content_index) of a part event, hashable whatever it holds."""
    key = (ev.get("item_id"), ev.get("output_index"), ev.get("content_index"))
    for v in key:  # (a loop, not a generator: this runs for every delta)
        if v is not None and type(v) is not str and type(v) is not int:
            return tuple(v if v is None or isinstance(v, str | int) else repr(v) for v in key)
    return key


def _content_types(item: dict[str, Any]) -> list[str]:
    out = []
    for part in as_list(item.get("content")):
        if isinstance(part, dict) and isinstance(part.get("type"), str):
            out.append(part["type"])
    return out


class SessionState:
    """Everything known about one connection so far. Feed records with :meth:`apply`."""

    def __init__(self, conn: str, limits: Limits = LIMITS) -> None:
        self.conn = conn
        self.limits = limits
        self.open: dict[str, Any] | None = None
        self.close: dict[str, Any] | None = None
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.messages = 0
        self.non_events = 0
        self.timed = False
        self.dialects: dict[tuple[str, Dialect], int] = {}
        # configuration
        self.session_created: Msg | None = None
        self.raw_session: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.config_history: Window[ConfigChange] = Window(maxlen=limits.config_history)
        self.updates: Window[ClientRequest] = Window(maxlen=limits.updates)
        # requests and errors
        self.requests: Window[ClientRequest] = Window(maxlen=limits.requests)
        self.pending: Window[ClientRequest] = Window(maxlen=limits.pending)
        #: requests of ``requests`` by their ``event_id``
        self.by_event_id: dict[str, ClientRequest] = {}
        #: seq of the last ``response.create`` (exact, whatever the windows dropped)
        self.last_create_seq: int | None = None
        self.errors: Window[ErrorInfo] = Window(maxlen=limits.errors)
        #: every distinct ``error.code`` seen (up to ``limits.error_codes`` of them)
        self.error_codes: set[str] = set()
        # conversation
        #: the newest items with every detail; older ones move to ``item_kinds``
        self.items: OrderedDict[str, Item] = OrderedDict()
        self.item_kinds: dict[str, ItemKind] = {}  # oldest first
        self.client_items: Window[ClientRequest] = Window(maxlen=limits.client_items)
        #: seqs of ``conversation.item.create`` of system items / of assistant text items
        self.system_items: Window[int] = Window(maxlen=limits.history_items)
        self.assistant_text_items: Window[int] = Window(maxlen=limits.history_items)
        self.responses: dict[str, Response] = {}
        self.response_order: Window[Response] = Window()
        self.active: dict[str, Response] = {}
        self.calls: OrderedDict[str, FunctionCall] = OrderedDict()
        self.outputs: Window[ClientRequest] = Window(maxlen=limits.outputs)
        # parts as ordered sets (dict keys), oldest dropped first
        self.open_parts: dict[tuple[str | int | None, ...], None] = {}
        self.done_parts: dict[tuple[str | int | None, ...], None] = {}
        self.saw_parts = False
        # input audio
        self.buffer_bytes = 0
        self.appended_bytes = 0
        self.appends = 0
        self.run_start_t: float | None = None
        self.run_last_t: float | None = None
        self.run_bytes = 0
        self.last_append_t: float | None = None
        self.last_append_seq: int | None = None
        #: bytes appended since the last speech_stopped: what a VAD commit leaves buffered
        self.since_stop_bytes = 0
        # VAD
        self.speech: SpeechSpan | None = None
        self.spans: Window[SpeechSpan] = Window(maxlen=limits.spans)
        #: committed user audio items still waiting for their transcription
        self.committed_user_items: Window[Item] = Window(maxlen=limits.committed_user_items)
        self.violations: Window[Violation] = Window(maxlen=limits.violations)
        self.rate_limits: dict[str, dict[str, Any]] = {}
        #: (seq, type) of the last few server events: what a stalled connection ended with
        self.server_tail: deque[tuple[int, str]] = deque(maxlen=8)
        #: entries dropped from the dict windows (the deque windows count their own)
        self._dropped: dict[str, int] = {}
        #: the event :meth:`apply_counted` counted last: seq, time, response (of a response event)
        self.counted_seq = 0
        self.counted_t: float | None = None
        self.counted_response: Response | None = None
        #: the handshake came after messages (a hand-made file): no fast path then
        self._late_open = False
        #: (dialect key, response_id, item_id, output_index, content_index, response) of the last
        #: response event :meth:`apply_counted` proved countable; forgotten by every change of
        #: what that proof read (dialects, responses, parts: only :meth:`apply` changes them)
        self._counted_memo: tuple[Any, ...] | None = None

    # -- derived views -------------------------------------------------------------------
    @property
    def recorded(self) -> bool:
        """Whether this is a recorded connection (handshake seen), not an excerpt or pasted log."""
        return self.open is not None

    def input_bpm(self) -> float | None:
        return bytes_per_ms(self.config.get("input_format", "pcm16"))

    def output_bpm(self) -> float | None:
        return bytes_per_ms(self.config.get("output_format", "pcm16"))

    def buffered_ms(self) -> float | None:
        bpm = self.input_bpm()
        return None if bpm is None else self.buffer_bytes / bpm

    def item_kind(self, iid: str) -> ItemKind | None:
        """Type, role and audio of an item, also of one whose details were dropped."""
        item = self.items.get(iid)
        if item is not None:
            return _kind_of(item)
        return self.item_kinds.get(iid)

    def retained(self) -> dict[str, int]:
        """How many entries each growing part of the model holds now (flat in long sessions)."""
        return {
            name: len(getattr(self, name))
            for name in (
                "config_history",
                "updates",
                "requests",
                "pending",
                "by_event_id",
                "errors",
                "error_codes",
                "items",
                "item_kinds",
                "client_items",
                "system_items",
                "assistant_text_items",
                "responses",
                "response_order",
                "active",
                "calls",
                "outputs",
                "open_parts",
                "done_parts",
                "spans",
                "committed_user_items",
                "violations",
                "rate_limits",
                "dialects",
            )
        }

    def dropped(self) -> dict[str, int]:
        """How many entries each window dropped so far (only those that dropped any)."""
        out = dict(self._dropped)
        for name, value in vars(self).items():
            if isinstance(value, Window) and value.dropped:
                out[name] = value.dropped
        return out

    def _drop(self, name: str) -> None:
        self._dropped[name] = self._dropped.get(name, 0) + 1

    # -- feeding -------------------------------------------------------------------------
    def apply_open(self, record: dict[str, Any]) -> None:
        self._counted_memo = None
        if self.messages:
            self._late_open = True
        self.open = record
        self._time(record.get("t"))

    def apply_close(self, record: dict[str, Any]) -> None:
        self.close = record
        self._time(record.get("t"))

    def _time(self, t: Any) -> float | None:
        if isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t):
            tf = float(t)
            if self.first_t is None:
                self.first_t = tf
            if self.last_t is None or tf > self.last_t:
                self.last_t = tf
            self.timed = True
            return tf
        return None

    def apply(self, record: dict[str, Any]) -> Msg | None:
        """Apply one ``msg`` record; returns the annotated :class:`Msg` (``None`` if no event)."""
        self._counted_memo = None
        t = self._time(record.get("t"))
        self.messages += 1
        event = record.get("event")
        seq = record.get("seq")
        seq = seq if isinstance(seq, int) else self.messages - 1
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self.non_events += 1
            return None
        etype: str = event["type"]
        frm = record.get("from")
        if frm not in ("client", "server"):
            frm = direction_of(etype)
        m = Msg(seq=seq, t=t, frm=frm, type=etype, event=event, dialect=dialect_of(event))
        if m.dialect is not None:
            self.dialects.setdefault((frm, m.dialect), seq)
        try:
            if frm == "client":
                self._client(m)
            else:
                self._server(m)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # Odd shapes are recorded, never raised: the model must survive any input.
            self.violations.append(Violation(seq, t, "unreadable", f"{etype}: {exc}"))
        return m

    def apply_counted(self, record: dict[str, Any], event: dict[str, Any], etype: str) -> bool:
        """Count one of :data:`COUNTED_EVENTS` without building a :class:`Msg`.

        The fast path of a voice session's bulk: it applies the record only when the state can
        prove the event is uneventful, i.e. that :meth:`apply` would record no violation, no new
        dialect, no unknown response and that the event is well formed, and then updates exactly
        what :meth:`apply` would (times, counters, bytes, characters; for a response event its
        response), and sets :attr:`counted_seq`, :attr:`counted_t` and
        :attr:`counted_response`. Returns ``False``, having changed nothing, when it cannot: the
        caller then uses :meth:`apply`.
        """
        # Every check comes first and changes nothing; the common shapes (what JSON gives) are
        # tested with ``type(x) is …`` before the general ``isinstance`` of the full path.
        try:  # (a subscript costs less than .get: these run for every bulk event)
            seq = record["seq"]
            frm = record["from"]
        except KeyError:
            return False  # what the checks below say of a missing seq or from
        t = record.get("t")
        if type(seq) is not int or self._late_open:
            return False
        if type(t) is float:
            if t - t != 0.0:  # inf or nan
                return False
        elif t is not None and (not isinstance(t, int) or isinstance(t, bool)):
            return False
        if etype == "input_audio_buffer.append":
            if frm != "client":
                return False
            if len(event) != 3 or "audio" not in event or "event_id" not in event:
                if not event.keys() <= _APPEND_KEYS:  # ("type" is in: ``etype`` came from it)
                    return False
            audio = event.get("audio")
            if type(audio) is dict:
                n = audio.get("bytes")  # counted audio, as the recorder and the reader give it
                if type(n) is not int:
                    n = b64_len(audio)
            elif isinstance(audio, str | dict):
                n = b64_len(audio)
            else:
                return False
            if not isinstance(event.get("event_id", ""), str):
                return False
            tf = self._now(t)
            self.messages += 1
            self._append(seq, tf, n)
            self.counted_seq, self.counted_t, self.counted_response = seq, tf, None
            return True
        if frm != "server":
            return False
        dialect = _COUNTED_DIALECT[etype]
        if dialect is None:  # an input transcription delta: the model only notes it
            tf = self._now(t)
            self.messages += 1
            self.server_tail.append((seq, etype))
            self.counted_seq, self.counted_t, self.counted_response = seq, tf, None
            return True
        rid = event.get("response_id")
        iid = event.get("item_id")
        out, part = event.get("output_index"), event.get("content_index")
        memo = self._counted_memo
        if (
            memo is not None
            and memo[0] is dialect
            and memo[1] == rid
            and memo[2] == iid
            and memo[3] is out  # ints of the same value, not 0.0 or False: small ints are one
            and memo[4] is part
        ):
            resp = memo[5]  # the same response and part as the event before: checked then
        else:
            if dialect not in self.dialects:
                return False
            resp = self.responses.get(rid) if isinstance(rid, str) else None
            if resp is None or resp.done_seq is not None:
                return False  # a violation to record: the full path does it
            exact = type(rid) is str and type(iid) is str and type(out) is int and type(part) is int
            if self.saw_parts:
                key = (iid, out, part) if exact else _part_key(event)
                if key not in self.open_parts:
                    return False
            # what made this event countable holds until the full path changes the state
            self._counted_memo = (dialect, rid, iid, out, part, resp) if exact else None
        tf = self._now(t)
        self.messages += 1
        self.server_tail.append((seq, etype))
        resp.events += 1
        resp.last_seq, resp.last_t, resp.last_type = seq, tf, etype
        if etype in _DELTA_AUDIO:
            self._count_delta(seq, tf, event, resp)
        elif etype in _TEXT_DELTA:
            resp.text_events += 1
            resp.content_types.add("text")
        else:
            delta = event.get("delta")
            if isinstance(delta, str):
                resp.transcript_chars += len(delta)
        self.counted_seq, self.counted_t, self.counted_response = seq, tf, resp
        return True

    def _now(self, t: float | None) -> float | None:
        """:meth:`_time` for a time already checked (finite number or None), common case first."""
        last = self.last_t
        if type(t) is float and last is not None and t >= last:
            self.last_t = t
            return t
        return self._time(t)

    # -- client events -------------------------------------------------------------------
    def _append(self, seq: int, t: float | None, n: int) -> None:
        self.buffer_bytes += n
        self.since_stop_bytes += n
        self.appended_bytes += n
        self.appends += 1
        self.last_append_seq = seq
        if t is not None:
            if self.run_last_t is None or t - self.run_last_t > 1.0:
                self.run_start_t, self.run_bytes = t, 0
            self.run_bytes += n
            self.run_last_t = t
            self.last_append_t = t

    def _client(self, m: Msg) -> None:
        ev = m.event
        if m.type == "input_audio_buffer.append":
            self._append(m.seq, m.t, b64_len(ev.get("audio")))
            return
        req = ClientRequest(m.seq, m.t, m.type, ev, _str(ev.get("event_id")))
        m.request = req
        requests = self.requests
        if len(requests) == requests.maxlen:
            old = requests[0]  # about to be dropped: so is its event_id entry
            if old.event_id is not None and self.by_event_id.get(old.event_id) is old:
                del self.by_event_id[old.event_id]
        requests.append(req)
        if req.event_id:
            self.by_event_id[req.event_id] = req
        if m.type in ACKS:
            self.pending.append(req)
        if m.type in ("session.update", "transcription_session.update"):
            self.updates.append(req)
        elif m.type == "response.create":
            m.active_before = [r for r in self.active.values() if r.conversation != "none"]
            self.last_create_seq = m.seq
        elif m.type == "input_audio_buffer.commit":
            m.buffered_ms = self.buffered_ms()
        elif m.type == "conversation.item.create":
            self.client_items.append(req)
            item = ev.get("item")
            if isinstance(item, dict):
                self._history_item(m.seq, item)
            if isinstance(item, dict) and item.get("type") == "function_call_output":
                self.outputs.append(req)
                call = self.calls.get(str(item.get("call_id")))
                if call is not None and call.output is None:
                    call.output = req
        if m.type == "response.create":
            self._follow_calls(m.seq)

    def _history_item(self, seq: int, item: dict[str, Any]) -> None:
        """Note seeded system items and assistant text items (``text-only-response`` reads them)."""
        role = item.get("role")
        if role == "system":
            self.system_items.append(seq)
        elif role == "assistant":
            types = {
                p.get("type")
                for p in as_list(item.get("content"))
                if isinstance(p, dict) and isinstance(p.get("type"), str)
            }
            if types & {"text", "output_text"}:
                self.assistant_text_items.append(seq)

    def _follow_calls(self, seq: int) -> None:
        """A response.create (or a response.created) answers the tool outputs sent before."""
        for call in self.calls.values():
            if call.output is not None and call.followed_seq is None:
                call.followed_seq = seq

    # -- server events -------------------------------------------------------------------
    def _ack(self, m: Msg, match: Any = None) -> ClientRequest | None:
        for req in self.pending:
            if m.type in ACKS[req.type] and (match is None or match(req)):
                self.pending.remove(req)
                req.ack_seq, req.ack_t = m.seq, m.t
                m.request = req
                if req.type in _FORGET_WHEN_ACKED:
                    self._forget(req)
                return req
        return None

    def _forget(self, req: ClientRequest) -> None:
        """Drop an acknowledged request nothing reads again: long sessions stay flat in memory."""
        for index in range(len(self.requests) - 1, -1, -1):
            if self.requests[index] is req:
                del self.requests[index]
                break
        if req.event_id is not None and self.by_event_id.get(req.event_id) is req:
            del self.by_event_id[req.event_id]

    def _server(self, m: Msg) -> None:
        etype = m.type
        self.server_tail.append((m.seq, etype))
        handler = _SERVER_HANDLERS.get(etype)
        if handler is not None:
            handler(self, m)
        elif etype.startswith(_RESPONSE_EVENT_PREFIX):
            self._response_event(m)

    def _config(self, m: Msg, session: Any) -> None:
        if not isinstance(session, dict):
            return
        before = dict(self.config)
        if m.type.endswith(".created"):
            self.raw_session = dict(session)
            self.config = normalize_session(session)
        else:
            self.raw_session.update(session)
            self.config.update(normalize_session(session))
        changed = {k: v for k, v in self.config.items() if before.get(k, object()) != v}
        for key in self.config.keys() - changed.keys():
            # An unchanged value keeps its old object, so that the snapshots in config_history
            # share it (apps resend 20 KiB of instructions and tools with every update).
            if _identical(before[key], self.config[key]):
                self.config[key] = before[key]
        change = ConfigChange(m.seq, m.t, m.type, dict(self.config), changed, m.request)
        self.config_history.append(change)
        m.config = change

    def _on_session_created(self, m: Msg) -> None:
        if self.session_created is None:
            self.session_created = m
        self._config(m, m.event.get("session"))

    def _on_session_updated(self, m: Msg) -> None:
        self._ack(m)
        self._config(m, m.event.get("session"))

    def _on_error(self, m: Msg) -> None:
        err = m.event.get("error")
        err = err if isinstance(err, dict) else {}
        info = ErrorInfo(
            seq=m.seq,
            t=m.t,
            code=_str(err.get("code")),
            type=_str(err.get("type")),
            message=str(err.get("message") or ""),
            param=_str(err.get("param")),
            event_id=_str(err.get("event_id")),
        )
        self._link_error(info)
        m.error = info
        m.request = info.request
        self.errors.append(info)
        if info.code is not None and len(self.error_codes) < self.limits.error_codes:
            self.error_codes.add(info.code)
        req = info.request
        if req is not None and req.error is None and req.ack_seq is None:
            req.error = info
            if req in self.pending:
                self.pending.remove(req)

    def _link_error(self, info: ErrorInfo) -> None:
        """Protocol notes §4: event_id, then code/param, then timing, else unlinked."""
        if info.event_id and info.event_id in self.by_event_id:
            info.request, info.link = self.by_event_id[info.event_id], "event_id"
            return
        wanted: str | None = ERROR_CODE_SOURCES.get(info.code or "")
        link = "code"
        msg = info.message.lower()
        if wanted is None and ("truncat" in msg or "shorter than" in msg):
            wanted = "conversation.item.truncate"
        if wanted is None and info.param:
            link = "param"
            if info.param.startswith("session."):
                wanted = "session.update"
            elif info.param.startswith("item."):
                wanted = "conversation.item.create"
            elif info.param.startswith("response."):
                wanted = "response.create"
            elif info.param in ("audio", "audio.audio"):
                return  # an append: appends are not tracked one by one
        if wanted is not None:
            candidates = [r for r in reversed(self.requests) if r.type == wanted]
            if info.code == "invalid_tool_call_id":
                with_id = [r for r in candidates if (_call_id_of(r) or "\0") in msg]
                candidates = with_id or candidates
            unresolved = [r for r in candidates if not r.resolved]
            picks = unresolved or candidates
            if picks:
                info.request, info.link = picks[0], link
            return
        if self.pending:
            req = self.pending[-1]
            if info.t is None or req.t is None or info.t - req.t <= 5.0:
                info.request, info.link = req, "timing"

    def _on_rate_limits(self, m: Msg) -> None:
        for lim in as_list(m.event.get("rate_limits")):
            if isinstance(lim, dict) and isinstance(lim.get("name"), str):
                self.rate_limits[lim["name"]] = lim

    def _response_of(self, m: Msg, rid: Any) -> Response | None:
        if not isinstance(rid, str):
            return None
        resp = self.responses.get(rid)
        if resp is None:
            resp = Response(id=rid, config_modalities=self.config.get("modalities"))
            resp.output_format = self.config.get("output_format", "pcm16")
            self.responses[rid] = resp
            self.response_order.append(resp)
            if len(self.response_order) > self.limits.responses:
                self._drop_response()
            if self.recorded and m.type != "response.created":
                self._violate(m, "unknown-response", f"{m.type} for {rid}, never created", rid)
        resp.events += 1
        resp.last_seq, resp.last_t, resp.last_type = m.seq, m.t, m.type
        m.response = resp
        return resp

    def _drop_response(self) -> None:
        """Forget the oldest finished response (the oldest of all if none has finished)."""
        order = self.response_order
        index = next((i for i, r in enumerate(order) if r.done_seq is not None), 0)
        resp = order[index]
        del order[index]
        if self.responses.get(resp.id) is resp:
            del self.responses[resp.id]
        if self.active.get(resp.id) is resp:
            del self.active[resp.id]
        self._drop("responses")

    def _violate(self, m: Msg, kind: str, text: str, rid: str | None = None) -> None:
        v = Violation(m.seq, m.t, kind, text, rid)
        self.violations.append(v)
        m.violations.append(v)

    def _on_response_created(self, m: Msg) -> None:
        body = m.event.get("response")
        body = body if isinstance(body, dict) else {}
        rid = body.get("id")
        existing = self.responses.get(rid) if isinstance(rid, str) else None
        resp = self._response_of(m, rid)
        if resp is None:
            return
        if existing is not None and existing.created_seq is not None:
            self._violate(m, "duplicate-created", f"second response.created for {rid}", rid)
        resp.created_seq, resp.created_t = m.seq, m.t
        resp.config_modalities = self.config.get("modalities")
        echoed = normalize_session(body).get("modalities")
        if echoed is not None:
            resp.echoed_modalities = echoed
        resp.conversation = "none" if body.get("conversation") == "none" else None
        req = self._ack(m)
        if req is not None:
            resp.request = req
            params = req.event.get("response")
            if isinstance(params, dict):
                norm = normalize_session(params)
                resp.requested_modalities = norm.get("modalities")
                if params.get("conversation") == "none":
                    resp.conversation = "none"
                if "output_format" in norm:
                    resp.output_format = norm["output_format"]
        self.active[resp.id] = resp
        self._follow_calls(m.seq)

    def _on_response_done(self, m: Msg) -> None:
        body = m.event.get("response")
        body = body if isinstance(body, dict) else {}
        resp = self._response_of(m, body.get("id"))
        if resp is None:
            return
        if resp.done_seq is not None:
            self._violate(m, "second-done", f"second response.done for {resp.id}", resp.id)
            return
        resp.done_seq, resp.done_t = m.seq, m.t
        resp.status = _str(body.get("status"))
        resp.status_details = body.get("status_details")
        resp.usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
        echoed = normalize_session(body).get("modalities")
        if echoed is not None and resp.echoed_modalities is None:
            resp.echoed_modalities = echoed
        for item in as_list(body.get("output")):
            if isinstance(item, dict):
                resp.content_types.update(_content_types(item))
                self._function_call_item(m, item, resp.id)
        self.active.pop(resp.id, None)
        # response.cancel is acknowledged by the done of a cancelled response
        if resp.status == "cancelled":
            self._ack(m)
        if resp.created_seq is None and self.recorded:
            self._violate(m, "done-without-created", f"response.done for {resp.id}", resp.id)

    def _function_call_item(self, m: Msg, item: dict[str, Any], rid: str | None) -> None:
        if item.get("type") != "function_call":
            return
        call_id = _str(item.get("call_id"))
        if call_id and call_id not in self.calls:
            self._add_call(
                FunctionCall(call_id, _str(item.get("name")), _str(item.get("id")), rid, m.seq, m.t)
            )

    def _add_call(self, call: FunctionCall) -> None:
        """Keep every unanswered call (up to a generous limit), only the newest answered ones."""
        calls = self.calls
        calls[call.call_id] = call
        if len(calls) <= self.limits.calls:
            return
        answered = next((k for k, c in calls.items() if c.output is not None), None)
        if answered is not None:
            del calls[answered]
        elif len(calls) > self.limits.unanswered_calls:
            calls.popitem(last=False)
        else:
            return
        self._drop("calls")

    def _response_event(self, m: Msg) -> None:
        ev = m.event
        resp = self._response_of(m, ev.get("response_id"))
        if resp is None:
            return
        if resp.done_seq is not None:
            self._violate(m, "after-done", f"{m.type} after response.done of {resp.id}", resp.id)
        key = _part_key(ev)
        if m.type == "response.content_part.added":
            self.saw_parts = True
            self._add_part(self.open_parts, key)
            part = ev.get("part")
            if isinstance(part, dict) and isinstance(part.get("type"), str):
                resp.part_types.append(part["type"])
        elif m.type == "response.content_part.done":
            self.open_parts.pop(key, None)
            self._add_part(self.done_parts, key)
        elif m.type in _PART_EVENTS:
            if self.saw_parts and key not in self.open_parts:
                where = "after its content_part.done" if key in self.done_parts else "outside"
                self._violate(m, "delta-outside-part", f"{m.type} {where} a content part", resp.id)
            if m.type in _TEXT_EVENTS:
                resp.text_events += 1
                resp.content_types.add("text")
            elif m.type in _DELTA_AUDIO:
                self._audio_delta(m, resp)
            elif m.type in _AUDIO_DONE:
                resp.content_types.add("audio")
            elif m.type in _TRANSCRIPT_DELTA and isinstance(ev.get("delta"), str):
                resp.transcript_chars += len(ev["delta"])
        elif m.type in ("response.output_item.added", "response.output_item.done"):
            item = ev.get("item")
            if isinstance(item, dict):
                iid = _str(item.get("id"))
                if iid and iid not in resp.item_ids:
                    resp.item_ids.append(iid)
                self._item(m, item, "server", resp.id)
                if m.type.endswith(".done"):
                    resp.content_types.update(_content_types(item))
                    self._function_call_item(m, item, resp.id)
        elif m.type == "response.function_call_arguments.done":
            call_id = _str(ev.get("call_id"))
            if call_id and call_id not in self.calls:
                self._add_call(
                    FunctionCall(
                        call_id, _str(ev.get("name")), _str(ev.get("item_id")), resp.id, m.seq, m.t
                    )
                )

    def _add_part(self, parts: dict[tuple[str | int | None, ...], None], key: Any) -> None:
        parts.pop(key, None)
        parts[key] = None
        if len(parts) > self.limits.parts:
            del parts[next(iter(parts))]
            self._drop("parts")

    def _audio_delta(self, m: Msg, resp: Response) -> None:
        self._count_delta(m.seq, m.t, m.event, resp)

    def _count_delta(self, seq: int, t: float | None, ev: dict[str, Any], resp: Response) -> None:
        # (runs for every audio delta: the common shapes are tested first)
        delta = ev.get("delta")
        n = delta.get("bytes") if type(delta) is dict else None  # counted audio
        if type(n) is not int:
            n = b64_len(delta)
        resp.audio_bytes += n
        if resp.first_audio_t is None:
            resp.first_audio_t = t
        fmt = resp.output_format
        bpm = 48.0 if fmt == "pcm16" else bytes_per_ms(fmt)
        if bpm:
            resp.audio_ms = resp.audio_bytes / bpm
        iid = ev.get("item_id")
        if iid and (type(iid) is str or isinstance(iid, str)):
            item = self.items.get(iid)
            if item is None:
                item = Item(iid, "message", "assistant", ["audio"], seq, t, "server")
                item.response_id = resp.id
                self._add_item(iid, item)
            item.audio_bytes += n
            if item.first_audio_t is None:
                item.first_audio_t = t
            if bpm:
                item.audio_ms = item.audio_bytes / bpm

    def _item(self, m: Msg, item: dict[str, Any], source: str, rid: str | None = None) -> Item:
        iid = _str(item.get("id"))
        known = self.items.get(iid) if iid else None
        if known is None:
            known = Item(
                iid,
                _str(item.get("type")),
                _str(item.get("role")),
                _content_types(item),
                m.seq,
                m.t,
                source,
                call_id=_str(item.get("call_id")),
                name=_str(item.get("name")),
                response_id=rid,
            )
            if iid:
                self._add_item(iid, known)
        else:
            for ctype in _content_types(item):
                if ctype not in known.content_types:
                    known.content_types.append(ctype)
            known.role = known.role or _str(item.get("role"))
            known.type = known.type or _str(item.get("type"))
        m.item = known
        return known

    def _add_item(self, iid: str, item: Item) -> None:
        """A new item; the oldest one beyond the window keeps only its :class:`ItemKind`."""
        items = self.items
        items[iid] = item
        self.item_kinds.pop(iid, None)
        if len(items) > self.limits.items:
            old_id, old = items.popitem(last=False)
            kinds = self.item_kinds
            kinds[old_id] = _kind_of(old)
            if len(kinds) > self.limits.item_kinds:
                del kinds[next(iter(kinds))]
                self._drop("item_kinds")

    def _on_item_added(self, m: Msg) -> None:
        item = m.event.get("item")
        if not isinstance(item, dict):
            return
        iid = _str(item.get("id"))

        def same(req: ClientRequest) -> bool:
            sent = req.event.get("item")
            if not isinstance(sent, dict):
                return True
            if sent.get("id") is not None:
                return bool(sent.get("id") == iid)
            return bool(sent.get("type", "message") == item.get("type", "message")) and bool(
                sent.get("role") == item.get("role")
            )

        fresh = iid is None or (iid not in self.items and iid not in self.item_kinds)
        req = self._ack(m, same) if fresh else None
        known = self._item(m, item, "client" if req is not None else "server")
        if req is None and known.role == "user" and "input_audio" in known.content_types:
            # by identity (what `in` finds first): comparing dataclasses field by field made this
            # quadratic in the session's turns
            if not known.transcription_done and not any(
                x is known for x in self.committed_user_items
            ):
                self.committed_user_items.append(known)

    def _on_committed(self, m: Msg) -> None:
        by_client = self._ack(m) is not None
        # A VAD commit takes the audio up to speech_stopped; what came after stays buffered.
        self.buffer_bytes = 0 if by_client else min(self.buffer_bytes, self.since_stop_bytes)
        if self.speech is not None and self.speech.stop_seq is None:
            self.speech.stop_seq, self.speech.stop_t = m.seq, m.t
            self.speech = None

    def _on_cleared(self, m: Msg) -> None:
        self._ack(m)
        self.buffer_bytes = 0

    def _on_speech_started(self, m: Msg) -> None:
        span = SpeechSpan(m.seq, m.t, m.event.get("audio_start_ms"), _str(m.event.get("item_id")))
        playing = [r for r in self.active.values() if r.audio_bytes > 0]
        if not playing and self.response_order:
            last = self.response_order[-1]
            if last.audio_bytes > 0:
                playing = [last]
        span.interrupted = playing[-1] if playing else None
        self.speech = span
        self.spans.append(span)

    def _on_speech_stopped(self, m: Msg) -> None:
        self.since_stop_bytes = 0
        span = self.speech
        if span is not None:
            span.stop_seq, span.stop_t = m.seq, m.t
            span.audio_end_ms = m.event.get("audio_end_ms")
            self.speech = None

    def _on_simple_ack(self, m: Msg) -> None:
        self._ack(m)
        if m.type == "conversation.item.truncated":
            item = self.items.get(str(m.event.get("item_id")))
            if item is not None and isinstance(m.event.get("audio_end_ms"), int):
                item.truncated_ms = m.event["audio_end_ms"]

    def _on_transcription(self, m: Msg) -> None:
        iid = str(m.event.get("item_id"))
        item = self.items.get(iid)
        waiting = self.committed_user_items
        if item is None:  # its details may be dropped while it still waits
            item = next((i for i in waiting if i.id == iid), None)
        if item is not None:
            item.transcription_done = True
            for index, other in enumerate(waiting):
                if other is item:
                    del waiting[index]  # nothing reads a transcribed item there again
                    break


def track(records: Iterable[dict[str, Any]], limits: Limits = LIMITS) -> dict[str, SessionState]:
    """The final :class:`SessionState` of every connection in ``records`` (no rules run).

    For readers of the model (the HTML report): effective config over time
    (``config_history``), responses (``response_order``), items, VAD ``spans``, errors, close;
    each list is a window of the newest entries (``limits``: pass larger ones to keep more).
    """
    states: dict[str, SessionState] = {}
    for record in records:
        kind = record.get("kind")
        if kind not in ("msg", "open", "close"):
            continue
        conn = str(record.get("conn", "0"))
        s = states.get(conn)
        if s is None:
            s = states[conn] = SessionState(conn, limits)
        if kind == "msg":
            s.apply(record)
        elif kind == "open":
            s.apply_open(record)
        else:
            s.apply_close(record)
    return states


def _call_id_of(req: ClientRequest) -> str | None:
    item = req.event.get("item")
    if isinstance(item, dict) and isinstance(item.get("call_id"), str):
        return str(item["call_id"]).lower()
    return None


_SERVER_HANDLERS: dict[str, Any] = {
    "session.created": SessionState._on_session_created,
    "transcription_session.created": SessionState._on_session_created,
    "session.updated": SessionState._on_session_updated,
    "transcription_session.updated": SessionState._on_session_updated,
    "error": SessionState._on_error,
    "rate_limits.updated": SessionState._on_rate_limits,
    "response.created": SessionState._on_response_created,
    "response.done": SessionState._on_response_done,
    "conversation.item.created": SessionState._on_item_added,
    "conversation.item.added": SessionState._on_item_added,
    "input_audio_buffer.committed": SessionState._on_committed,
    "input_audio_buffer.cleared": SessionState._on_cleared,
    "input_audio_buffer.speech_started": SessionState._on_speech_started,
    "input_audio_buffer.speech_stopped": SessionState._on_speech_stopped,
    "conversation.item.retrieved": SessionState._on_simple_ack,
    "conversation.item.truncated": SessionState._on_simple_ack,
    "conversation.item.deleted": SessionState._on_simple_ack,
    "output_audio_buffer.cleared": SessionState._on_simple_ack,
    "conversation.item.input_audio_transcription.completed": SessionState._on_transcription,
    "conversation.item.input_audio_transcription.failed": SessionState._on_transcription,
}
