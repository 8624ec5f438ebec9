"""More catalog entries that frames can show: Azure URL vs dialect (F-10), assistant audio
shorter than its transcript or streamed after its done (F-21), orphan responses after an early
cancel (F-24), out-of-band responses that return nothing (F-32)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from ...protocol.dialect import Dialect
from ...protocol.session import Msg, Response, SessionState
from ..findings import Severity
from ..registry import ALL_COUNTED, Rule
from ._util import gap_ms

__all__ = [
    "AudioDeltaAfterDone",
    "AudioShorterThanTranscript",
    "AzureUrlDialect",
    "OrphanResponse",
    "OutOfBandResponseEmpty",
    "azure_endpoint_dialect",
]


def azure_endpoint_dialect(url: Any) -> tuple[Dialect, str] | None:
    """The dialect an Azure OpenAI realtime URL speaks, with the endpoint kind, or ``None``.

    ``/openai/realtime?api-version=…`` is the preview endpoint (beta events);
    ``/openai/v1/realtime`` is the GA endpoint.
    """
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/openai/v1/realtime"):
        return "ga", "GA endpoint /openai/v1/realtime"
    if path.endswith("/openai/realtime") and "api-version" in parse_qs(parts.query):
        version = parse_qs(parts.query)["api-version"][0]
        return "beta", f"preview endpoint /openai/realtime?api-version={version}"
    return None


class AzureUrlDialect(Rule):
    """The Azure endpoint in the URL and the dialect of the events do not match.

    Azure OpenAI serves two realtime endpoints: the preview one (``/openai/realtime`` with an
    ``api-version``, beta event names and session shape) and the GA one
    (``/openai/v1/realtime``, GA events). GA events sent to the preview URL (or beta events to
    the GA URL) are refused or misread: the session ends as soon as the user speaks, or the
    handshake fails with HTTP 400 ``OperationNotSupported``.

    Fix: use the URL of the dialect the client speaks: GA clients connect to
    ``wss://<resource>.openai.azure.com/openai/v1/realtime?model=<deployment>``; beta clients to
    ``/openai/realtime?api-version=2024-10-01-preview&deployment=<deployment>`` (retired).

    Example: ``AsyncAzureOpenAI(api_version="2024-10-01-preview").realtime.connect(...)`` (a GA
    client on the preview URL) sends ``session.update`` with ``session.type``.
    """

    name = "azure-url-dialect"
    severity = Severity.ERROR
    #: fast-path events are neutral or of a dialect this side already used,
    #: so an earlier event of that dialect was judged against the same handshake
    fast_events = ALL_COUNTED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        if self._done or m.dialect is None or s.open is None:
            return
        endpoint = azure_endpoint_dialect(s.open.get("url"))
        if endpoint is None:
            self._done = True
            return
        expected, where = endpoint
        if m.dialect == expected:
            return
        self._done = True
        self.report(
            s,
            m.seq,
            m.t,
            f"the connection uses Azure's {where} ({expected} events) but the {m.frm} sent "
            f"{m.type} in the {m.dialect} shape",
            "connect GA clients to /openai/v1/realtime and beta clients to "
            "/openai/realtime?api-version=…; do not mix them",
            endpoint=where,
            expected=expected,
            dialect=m.dialect,
        )

    def on_finish(self, s: SessionState) -> None:
        if self._done or s.open is None:
            return
        endpoint = azure_endpoint_dialect(s.open.get("url"))
        body = s.open.get("body")
        if endpoint is None or s.open.get("status") != 400:
            return
        text = str(body)
        if "OperationNotSupported" not in text and "OpperationNotSupported" not in text:
            return
        self._done = True
        self.report(
            s,
            None,
            s.open.get("t") if isinstance(s.open.get("t"), int | float) else None,
            f"Azure refused the handshake on its {endpoint[1]} with OperationNotSupported",
            "check the endpoint (preview vs /openai/v1) and that the deployment is a realtime "
            "model, not a transcription one",
            endpoint=endpoint[1],
            status=400,
        )


_AUDIO_DELTA = frozenset({"response.audio.delta", "response.output_audio.delta"})
_AUDIO_DONE = frozenset({"response.audio.done", "response.output_audio.done"})
_TRANSCRIPT_DONE = frozenset(
    {"response.audio_transcript.done", "response.output_audio_transcript.done"}
)
#: parts and responses this rule remembers (the newest; a session's memory stays flat)
KEPT = 256
#: faster than anyone speaks (about 15 characters a second is usual, fast TTS reaches 30): below
#: this many ms of audio per transcript character, the audio cannot hold the whole transcript
MIN_MS_PER_CHAR = 25
#: transcripts shorter than this are not judged (one word says little about a rate)
MIN_CHARS = 40


def _part_key(ev: dict[str, Any]) -> tuple[Any, ...]:
    """(response_id, item_id, content_index), hashable whatever the event holds."""
    key = (ev.get("response_id"), ev.get("item_id"), ev.get("content_index"))
    for v in key:  # (a loop, not a generator: this runs for every audio delta)
        if v is not None and type(v) is not str and type(v) is not int:
            return tuple(v if v is None or isinstance(v, str | int) else repr(v) for v in key)
    return key


class AudioShorterThanTranscript(Rule):
    """A completed response's audio is too short to speak its transcript: the tail was lost.

    The transcript (``…audio_transcript.done``) holds the whole answer, but the audio deltas add
    up to less than 25 ms per transcript character (40 characters a second, faster than anyone
    speaks; 15 is usual, fast synthetic speech about 30). The last words are never heard
    ("skips the 0 when counting down"): audio deltas were dropped, or the server stopped
    streaming early.

    Fix: play every delta until ``response.output_audio.done`` (do not stop at
    ``response.done``), check for dropped messages between server and player, and report the
    response id if the deltas really are missing from the capture.

    Example: 1.0 s of ``response.output_audio.delta`` for the transcript "Ten, nine, eight,
    seven, six, five, four, three, two, one, zero. Liftoff!".
    """

    name = "audio-shorter-than-transcript"
    severity = Severity.WARNING
    types = _TRANSCRIPT_DONE | frozenset({"response.done"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._transcripts: dict[str, int] = {}

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type in _TRANSCRIPT_DONE:
            rid, text = m.event.get("response_id"), m.event.get("transcript")
            if isinstance(rid, str) and isinstance(text, str):
                self._transcripts[rid] = self._transcripts.get(rid, 0) + len(text.strip())
                if len(self._transcripts) > KEPT:
                    del self._transcripts[next(iter(self._transcripts))]  # never done
            return
        r = m.response
        if r is None:
            return
        # read at this response's (first) done only, so forgotten whatever its status
        chars = self._transcripts.pop(r.id, 0)
        if r.status != "completed" or r.audio_ms is None:
            return
        if chars < MIN_CHARS or r.audio_ms >= chars * MIN_MS_PER_CHAR:
            return
        self.report(
            s,
            m.seq,
            m.t,
            f"response {r.id} has {r.audio_ms / 1000:.1f} s of audio for a {chars}-character "
            f"transcript (at least {chars * MIN_MS_PER_CHAR / 1000:.1f} s to speak it): the "
            "end of the answer is not heard",
            "play every audio delta until output_audio.done and look for dropped deltas; "
            "report the response id if they are missing here",
            response_id=r.id,
            audio_ms=round(r.audio_ms),
            transcript_chars=chars,
            audio_tokens=r.audio_tokens,
        )


class AudioDeltaAfterDone(Rule):
    """An assistant audio delta arrived after its part's ``…audio.done``.

    ``response.output_audio.done`` (beta ``response.audio.done``) closes an audio part; players
    that stop there drop whatever comes later, so the end of the answer is cut off. Audio after
    ``response.done`` is reported by ``lifecycle-violation``.

    Fix: server side, this is a protocol violation to report; client side, keep playing until
    ``response.done`` rather than ``…audio.done``.

    Example: ``response.output_audio.done`` (item_1, content 0) → ``response.output_audio.delta``
    (item_1, content 0).
    """

    name = "audio-delta-after-done"
    severity = Severity.WARNING
    types = _AUDIO_DELTA | _AUDIO_DONE
    fast_events = _AUDIO_DELTA

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done: dict[tuple[Any, ...], tuple[int, float | None]] = {}
        self._reported: set[tuple[Any, ...]] = set()

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type in _AUDIO_DONE:
            self._done.setdefault(_part_key(m.event), (m.seq, m.t))
            if len(self._done) > KEPT:
                del self._done[next(iter(self._done))]  # the oldest part: long over
            return
        self._delta(s, m.seq, m.t, m.event, m.response)

    def on_counted(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        if self._done:
            self._delta(s, seq, t, event, response)

    def wants_counted(self, s: SessionState, etype: str) -> bool:
        return bool(self._done)  # no part is done yet (only on_message closes one)

    def _delta(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        key = _part_key(event)
        done = self._done.get(key)
        if done is None or key in self._reported:
            return
        if response is not None and response.done_seq is not None:
            return  # after response.done: lifecycle-violation says it
        self._reported.add(key)
        self.report(
            s,
            seq,
            t,
            f"{event.get('type')} for item {key[1]} arrived after its audio part was done "
            f"(seq {done[0]})",
            "keep playing until response.done; report the response id to the provider",
            response_id=key[0],
            item_id=key[1],
            done_seq=done[0],
            gap_ms=gap_ms(t, done[1]),
        )


#: a response.created this soon after an early cancel is the response that cancel missed
ORPHAN_WINDOW_S = 1.0


class OrphanResponse(Rule):
    """A ``response.cancel`` came before its response existed; the response then ran anyway.

    Cancelling between ``response.create`` and ``response.created`` is a no-op (the server
    answers ``response_cancel_not_active``): the response is created right after and plays in
    full, and it blocks the next ``response.create`` (``active-response-collision``).

    Fix: remember that a cancel is wanted and send ``response.cancel`` once
    ``response.created`` arrives (or cancel by ``response_id``); do not treat the error as
    success.

    Example: client ``response.create`` → client ``response.cancel`` → ``error``
    ``response_cancel_not_active`` → ``response.created`` → … → ``response.done`` completed.
    """

    name = "orphan-response"
    severity = Severity.WARNING
    types = frozenset({"response.cancel", "response.created", "response.done"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._early: tuple[int, float | None] | None = None
        self._orphans: dict[str, tuple[int, float | None]] = {}

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type == "response.cancel":
            if s.active:
                for rid in s.active:
                    self._orphans.pop(rid, None)  # cancelled now, after all
            else:
                self._early = (m.seq, m.t)
            return
        r = m.response
        if r is None:
            return
        if m.type == "response.created":
            early, self._early = self._early, None
            if early is None or m.t is None or early[1] is None:
                return
            if m.t - early[1] <= ORPHAN_WINDOW_S:
                self._orphans[r.id] = early
            return
        cancel = self._orphans.pop(r.id, None)
        if cancel is None or r.status == "cancelled":
            return
        self.report(
            s,
            m.seq,
            m.t,
            f"response.cancel (seq {cancel[0]}) was sent before response {r.id} existed; the "
            f"response was created {gap_ms(r.created_t, cancel[1])} ms later and ran to "
            f"{r.status or 'its end'}",
            "send response.cancel after response.created (or keep a pending-cancel flag); "
            "response_cancel_not_active means nothing was cancelled",
            response_id=r.id,
            cancel_seq=cancel[0],
            created_seq=r.created_seq,
            status=r.status,
        )


class OutOfBandResponseEmpty(Rule):
    """An out-of-band response (``conversation: "none"``) finished with no output at all.

    Out-of-band responses (classification, forced tool calls, summaries) are expected to return
    a function call or text; an empty ``output`` usually means the request was malformed:
    ``tools`` given as names instead of tool objects, a ``tool_choice`` naming a tool that is
    not in ``tools``, or text expected from an audio-only response.

    Fix: pass full tool objects in ``response.tools``, a ``tool_choice`` of
    ``{"type": "function", "name": …}`` naming one of them, and ``output_modalities: ["text"]``.

    Example: ``response.create`` ``{"conversation": "none", "tool_choice": {"type": "function",
    "name": "classify"}}`` → ``response.done`` ``{"status": "completed", "output": []}``.
    """

    name = "out-of-band-response-empty"
    severity = Severity.WARNING
    types = frozenset({"response.done"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        r = m.response
        if r is None or r.conversation != "none" or r.status not in ("completed", None):
            return
        body = m.event.get("response")
        output = body.get("output") if isinstance(body, dict) else None
        if output or r.item_ids or r.audio_bytes or r.text_events:
            return
        params = r.request.event.get("response") if r.request is not None else None
        params = params if isinstance(params, dict) else {}
        tools = params.get("tools")
        self.report(
            s,
            m.seq,
            m.t,
            f"out-of-band response {r.id} finished with an empty output",
            "give response.tools as tool objects, a tool_choice naming one of them, and "
            "output_modalities ['text'] for text",
            response_id=r.id,
            request_seq=r.request.seq if r.request is not None else None,
            tool_choice=params.get("tool_choice"),
            tools=[t.get("name") if isinstance(t, dict) else t for t in tools]
            if isinstance(tools, list)
            else None,
            metadata=params.get("metadata"),
        )
