"""Further catalog entries that frames can show: beta API use (F-01), VAD silence (F-15),
VAD too eager (F-16), echo (F-17), runaway audio (F-22), cancel races (F-24), transcript
hallucinations (F-34)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...protocol.config import bytes_per_ms
from ...protocol.dialect import handshake_dialect
from ...protocol.session import Msg, Response, SessionState
from ..findings import Severity
from ..registry import ALL_COUNTED, Rule
from ._util import gap_ms

#: the beta Realtime API stopped accepting connections on this day (protocol notes §0)
BETA_RETIRED = datetime(2026, 5, 12, tzinfo=UTC).timestamp()
VAD_SILENCE_MS = 10_000


class BetaApi(Rule):
    """The connection asked for the beta Realtime API (``OpenAI-Beta: realtime=v1``).

    The beta dialect was deprecated when GA launched (2025-08-28) and retired on 2026-05-12:
    since then OpenAI closes beta handshakes with code 4000 ``beta_api_shape_disabled``. Before
    that date this is a reminder (info); after it, a connection that still speaks beta works
    only against other servers (a relay, an emulator, Azure's preview until 2026-04-30) and
    breaks on OpenAI's (warning). Judged from the recorded handshake only.

    Fix: drop the ``OpenAI-Beta`` header (or the ``openai-beta.realtime-v1`` subprotocol) and move
    to GA: ``session.type``, ``output_modalities``, ``audio.input``/``audio.output``,
    ``response.output_*`` events.

    Example: ``GET /v1/realtime?model=gpt-4o-realtime-preview`` with ``OpenAI-Beta: realtime=v1``.
    """

    name = "beta-api"
    severity = Severity.WARNING
    #: judged from the handshake alone, once: the first event that is not counted (or the
    #: end) reports it, with the same finding
    fast_events = ALL_COUNTED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        self._check(s)

    def on_finish(self, s: SessionState) -> None:
        self._check(s)  # a connection closed before any message (4000 at once)

    def _check(self, s: SessionState) -> None:
        if self._done:
            return
        self._done = True
        if handshake_dialect(s.open) != "beta":
            return
        t = (s.open or {}).get("t")
        retired = isinstance(t, int | float) and t >= BETA_RETIRED
        self.report(
            s,
            None,
            t if isinstance(t, int | float) else None,
            "the connection uses the beta Realtime API, "
            + ("retired on 2026-05-12" if retired else "deprecated since 2025-08-28"),
            "remove the OpenAI-Beta: realtime=v1 header and move to the GA event names and "
            "session shape",
            severity=None if retired else Severity.INFO,
            retired=retired,
        )


class VadNeverFired(Rule):
    """Ten seconds of audio were appended and server VAD never detected speech.

    With ``turn_detection`` on, speech should produce ``input_audio_buffer.speech_started``;
    none after 10 s of appended audio (counted from the bytes and the input format) means the
    audio is silent or muted, is in another format than declared, or the VAD threshold is too
    high for the input (semantic VAD on 8 kHz telephony). The user cannot start a turn.

    Fix: check the microphone path and the input format (rule ``audio-format-mismatch``), lower
    the VAD ``threshold``, or commit turns yourself.

    Example: 12 s of ``input_audio_buffer.append`` with server VAD and no ``speech_started``.
    """

    name = "vad-never-fired"
    severity = Severity.WARNING
    types = frozenset({"input_audio_buffer.append", "input_audio_buffer.speech_started"})
    fast_events = frozenset({"input_audio_buffer.append"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bytes = 0
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        if self._done:
            return
        if m.type == "input_audio_buffer.speech_started":
            self._done = True  # VAD works in this session
            return
        self._appended(s, m.seq, m.t)

    def on_counted(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        if not self._done:
            self._appended(s, seq, t)

    def wants_counted(self, s: SessionState, etype: str) -> bool:
        # VAD fired (or the finding was made), or no VAD/format to judge by: appends change
        # nothing (the configuration changes only on the full path)
        if self._done or not isinstance(s.config.get("turn_detection"), dict):
            return False
        return bool(bytes_per_ms(s.config.get("input_format", "pcm16")))

    def _appended(self, s: SessionState, seq: int, t: float | None) -> None:
        vad = s.config.get("turn_detection")
        bpm = bytes_per_ms(s.config.get("input_format", "pcm16"))
        if not isinstance(vad, dict) or not bpm:
            return
        self._bytes = s.appended_bytes
        heard_ms = self._bytes / bpm
        if heard_ms < VAD_SILENCE_MS:
            return
        self._done = True
        self.report(
            s,
            seq,
            t,
            f"{heard_ms / 1000:.1f} s of audio were appended and server VAD never detected speech",
            "check that the audio is not silent and matches the declared format; lower the VAD "
            "threshold or commit turns yourself",
            appended_ms=round(heard_ms),
            vad=vad.get("type"),
            threshold=vad.get("threshold"),
            input_format=s.config.get("input_format", "pcm16"),
        )


class CancelWithoutResponse(Rule):
    """``response.cancel`` sent while no response was in progress.

    The server answers ``response_cancel_not_active`` ("Cancellation failed: no active response
    found"). Harmless in itself (the response already finished, or was not created yet), but
    apps that treat the error as fatal break, and a cancel sent *before* ``response.created``
    does not stop the response that follows.

    Fix: cancel only between ``response.created`` and ``response.done``, and ignore
    ``response_cancel_not_active``.

    Example: ``response.done`` → client ``response.cancel`` → ``error``
    ``response_cancel_not_active``.
    """

    name = "cancel-without-response"
    severity = Severity.INFO
    types = frozenset({"response.cancel"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        if s.active or not (s.recorded or s.response_order):
            return
        self.report(
            s,
            m.seq,
            m.t,
            "response.cancel sent while no response was in progress",
            "cancel only between response.created and response.done; treat "
            "response_cancel_not_active as harmless",
            last_response_id=s.response_order[-1].id if s.response_order else None,
        )


def _turn_detected(r: Response) -> bool:
    details = r.status_details if isinstance(r.status_details, dict) else {}
    return r.status == "cancelled" and details.get("reason") == "turn_detected"


class VadTooEager(Rule):
    """Server VAD cut the user off: speech resumed within 1 s and cancelled the answer.

    The user only paused; VAD ended the turn after ``silence_duration_ms`` (200 ms by default
    in early sessions), the model started answering, and the user's next words (within a
    second, before any answer audio) cancelled that answer (``response.done`` cancelled,
    ``turn_detected``). The symptom: half-sentence answers, "you got cut off there".

    Fix: raise ``silence_duration_ms`` (500-800 ms), or use ``semantic_vad`` with ``eagerness``
    ``low``/``auto``.

    Example: ``speech_stopped`` at 2.0 s → ``response.created`` → ``speech_started`` at 2.6 s →
    ``response.done`` ``{status: cancelled, reason: turn_detected}``.
    """

    name = "vad-too-eager"
    severity = Severity.WARNING
    types = frozenset({"response.done"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        r = m.response
        if self._done or r is None or r.created_seq is None or not _turn_detected(r):
            return
        before = [sp for sp in s.spans if sp.stop_seq is not None and sp.stop_seq < r.created_seq]
        after = [sp for sp in s.spans if r.created_seq < sp.start_seq < (r.done_seq or 0)]
        if not before or not after:
            return
        pause = gap_ms(after[0].start_t, before[-1].stop_t)
        if pause is None or pause >= 1000:
            return
        if r.first_audio_t is not None and after[0].start_t is not None:
            if after[0].start_t > r.first_audio_t:
                return  # the answer was already playing: see echo-self-interruption
        self._done = True
        vad = s.config.get("turn_detection")
        self.report(
            s,
            after[0].start_seq,
            after[0].start_t,
            f"the user resumed speaking {pause} ms after VAD ended the turn, cancelling the "
            f"answer {r.id}: the pause was taken for the end of the turn",
            "raise silence_duration_ms (500-800 ms) or use semantic_vad with eagerness low/auto",
            pause_ms=pause,
            response_id=r.id,
            silence_duration_ms=vad.get("silence_duration_ms") if isinstance(vad, dict) else None,
        )


class EchoSelfInterruption(Rule):
    """The assistant's own audio keeps triggering VAD: answers cancelled right after they start.

    Without echo cancellation the microphone hears the speaker, VAD detects "speech" 0.2-1.5 s
    after the answer's audio begins, and the answer is cancelled (``turn_detected``); the model
    may then answer its own words. Reported on the second such cancellation.

    Fix: enable acoustic echo cancellation (browser ``echoCancellation: true``, headsets), mute
    the microphone while playing, or raise the VAD threshold.

    Example: two responses each ``response.done`` ``{status: cancelled, reason: turn_detected}``
    with ``speech_started`` 400 ms after their first audio delta.
    """

    name = "echo-self-interruption"
    severity = Severity.WARNING
    types = frozenset({"response.done"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hits: list[tuple[str, int]] = []
        self._done = False

    def on_message(self, s: SessionState, m: Msg) -> None:
        r = m.response
        if self._done or r is None or r.first_audio_t is None or not _turn_detected(r):
            return
        starts = [
            sp
            for sp in s.spans
            if sp.start_t is not None and (r.created_seq or 0) < sp.start_seq < (r.done_seq or 0)
        ]
        if not starts:
            return
        delay = gap_ms(starts[0].start_t, r.first_audio_t)
        if delay is None or not 200 <= delay <= 1500:
            return
        self._hits.append((r.id, delay))
        if len(self._hits) < 2:
            return
        self._done = True
        self.report(
            s,
            starts[0].start_seq,
            starts[0].start_t,
            f"{len(self._hits)} answers were cancelled by speech detected "
            f"{'/'.join(str(d) for _, d in self._hits)} ms after their audio began: the "
            "assistant probably hears itself",
            "enable echo cancellation (or headphones), mute the microphone during playback, or "
            "raise the VAD threshold",
            responses=[rid for rid, _ in self._hits],
            delays_ms=[d for _, d in self._hits],
        )


#: a generous speaking rate: more audio than this many ms per transcript character is suspect
MS_PER_CHAR = 200
RUNAWAY_MIN_MS = 30_000


class RunawayAudio(Rule):
    """One response produced far more audio than its transcript can account for.

    Speech runs at about 15 characters a second; a response with over 30 s of audio and more
    than 200 ms of audio per transcript character (3× a slow speaker) is producing silence,
    buzzing or repetitions: a known glitch near function calls, where the model keeps
    streaming audio deltas and never calls the function.

    Fix: cancel such responses (``response.cancel``) when the audio outgrows the transcript,
    and report the response id to the provider.

    Example: 45 s of ``response.output_audio.delta`` with the transcript "Calling the function
    now."
    """

    name = "runaway-audio"
    severity = Severity.WARNING
    types = frozenset({"response.audio.delta", "response.output_audio.delta", "response.done"})
    fast_events = frozenset({"response.audio.delta", "response.output_audio.delta"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: set[str] = set()

    def on_message(self, s: SessionState, m: Msg) -> None:
        self._check(s, m.seq, m.t, m.response)

    def on_counted(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        self._check(s, seq, t, response)

    def _check(self, s: SessionState, seq: int, t: float | None, r: Response | None) -> None:
        if r is None or r.id in self._seen or r.audio_ms is None or r.audio_ms < RUNAWAY_MIN_MS:
            return
        if r.audio_ms <= MS_PER_CHAR * max(r.transcript_chars, 1) and r.transcript_chars:
            return
        self._seen.add(r.id)
        self.report(
            s,
            seq,
            t,
            f"response {r.id} produced {r.audio_ms / 1000:.0f} s of audio for "
            f"{r.transcript_chars} transcript characters",
            "cancel a response whose audio outgrows its transcript; report the response id",
            response_id=r.id,
            audio_ms=round(r.audio_ms),
            transcript_chars=r.transcript_chars,
        )


#: what Whisper-family models hear in silence (F-34)
HALLUCINATIONS = frozenset(
    {
        "thank you.",
        "thank you",
        "thanks for watching!",
        "thanks for watching.",
        "thank you for watching.",
        "thank you for watching!",
        "you",
        "bye.",
        "subtitles by the amara.org community",
        "please subscribe.",
    }
)


class TranscriptHallucination(Rule):
    """A user transcript is a phrase speech-to-text models invent on silence.

    "Thank you.", "Thanks for watching!" and similar come from Whisper-family models run on
    near-silent audio (VAD tails, idle-timeout commits), not from the user. The app then
    answers something nobody said.

    Fix: raise the VAD threshold or ``silence_duration_ms``, use noise reduction, and drop
    transcripts of very short or silent segments.

    Example: ``conversation.item.input_audio_transcription.completed`` with ``transcript``
    "Thanks for watching!".
    """

    name = "transcript-hallucination"
    severity = Severity.INFO
    types = frozenset({"conversation.item.input_audio_transcription.completed"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        text = m.event.get("transcript")
        if not isinstance(text, str) or text.strip().lower() not in HALLUCINATIONS:
            return
        self.report(
            s,
            m.seq,
            m.t,
            f"the user transcript {text.strip()!r} is a phrase transcription models invent on "
            "silence",
            "raise the VAD threshold, use noise reduction, and drop transcripts of near-silent "
            "segments",
            item_id=m.event.get("item_id"),
            transcript=text,
        )
