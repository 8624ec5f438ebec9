"""Rules about audio: the input buffer, VAD, interruptions, truncation, transcription."""

from __future__ import annotations

from typing import Any

from ...protocol.config import bytes_per_ms
from ...protocol.session import Item, Msg, Response, SessionState, SpeechSpan
from ..findings import Severity
from ..registry import Rule
from ._util import gap_ms

MIN_COMMIT_MS = 100
#: assistant audio generated this far ahead of real time when the user barges in must be cut
AHEAD_MS = 300
TRUNCATE_WAIT_S = 3.0
SPEECH_TIMEOUT_S = 15.0
#: a transcription not there this long after its item, by the end of the connection, is missing
TRANSCRIPTION_WAIT_S = 5.0
RATE_WINDOW_S = 5.0
RATE_TOLERANCE = 0.2
#: byte rates of formats people actually send (B/s), for naming the likely one
KNOWN_RATES = {
    "g711 (8 kHz, 1 byte/sample)": 8000,
    "pcm16 at 8 kHz": 16000,
    "pcm16 at 16 kHz": 32000,
    "pcm16 at 24 kHz": 48000,
    "pcm16 at 44.1 kHz": 88200,
    "pcm16 at 48 kHz or float32 at 24 kHz": 96000,
}


class CommitTooShort(Rule):
    """``input_audio_buffer.commit`` with less than 100 ms of audio buffered.

    The server refuses it with ``input_audio_buffer_commit_empty`` ("buffer too small. Expected at
    least 100ms of audio…"). Usual causes: a manual commit after server VAD already committed
    the turn (the buffer was drained), a commit before any append, or appends in another format
    than declared. The buffered ms come from the appended bytes and the input format.

    Fix: with server VAD, do not commit yourself; otherwise commit only after at least 100 ms
    (4 800 bytes of pcm16 at 24 kHz, 800 bytes of g711).

    Example: ``input_audio_buffer.committed`` (VAD) → client ``input_audio_buffer.commit``.
    """

    name = "commit-too-short"
    severity = Severity.WARNING
    types = frozenset({"input_audio_buffer.commit", "error"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type == "input_audio_buffer.commit":
            if m.buffered_ms is None or m.buffered_ms >= MIN_COMMIT_MS:
                return
            if not s.recorded and s.appends == 0:
                return  # an excerpt: the appends may simply not be in it
            if m.request is not None:
                m.request.flagged_by.add(self.name)  # its error is then explained
            self.report(
                s,
                m.seq,
                m.t,
                f"input_audio_buffer.commit with only {m.buffered_ms:.0f} ms of audio buffered "
                f"(at least {MIN_COMMIT_MS} ms needed)",
                "do not commit when server VAD already did; commit only after 100 ms of audio",
                buffered_ms=round(m.buffered_ms, 1),
                input_format=s.config.get("input_format"),
                turn_detection=(s.config.get("turn_detection") or {}).get("type")
                if isinstance(s.config.get("turn_detection"), dict)
                else None,
            )
        elif m.error is not None and m.error.code == "input_audio_buffer_commit_empty":
            req = m.error.request
            if req is not None and self.name in req.flagged_by:
                return
            self.report(
                s,
                m.seq,
                m.t,
                f"the server refused a commit: {m.error.message}",
                "do not commit when server VAD already did; commit only after 100 ms of audio",
                request_seq=req.seq if req else None,
            )


def _audio_item(s: SessionState, r: Response) -> Item | None:
    for iid in reversed(r.item_ids):
        item = s.items.get(iid)
        if item is not None and item.audio_bytes > 0:
            return item
    return None


class InterruptionNotTruncated(Rule):
    """The user interrupted assistant audio and no ``conversation.item.truncate`` followed.

    Over WebSocket the server generates audio faster than real time, so when speech starts the
    client still holds unplayed audio. It must stop playback and send
    ``conversation.item.truncate`` with the ms actually played; otherwise the user keeps hearing
    the old answer and the model believes the user heard all of it. Fires when, at
    ``speech_started``, the assistant item had more audio generated than time elapsed since its
    first delta (by over 300 ms) and no truncate for it follows within 3 s. Needs timestamps.

    Fix: on ``input_audio_buffer.speech_started``, stop playback, then send
    ``conversation.item.truncate{item_id, content_index: 0, audio_end_ms: <ms played>}``.

    Example: 8 s of audio generated in 1 s → ``speech_started`` at 2 s → no truncate.
    """

    name = "interruption-not-truncated"
    severity = Severity.WARNING
    types = frozenset({"input_audio_buffer.speech_started", "conversation.item.truncate"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: list[tuple[SpeechSpan, Item, int]] = []

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type == "conversation.item.truncate":
            iid = m.event.get("item_id")
            self._waiting = [w for w in self._waiting if w[1].id != iid]
            return
        if "call_id=" in str((s.open or {}).get("url", "")):
            return  # a WebRTC/SIP sideband: the server truncates by itself
        span = s.spans[-1] if s.spans and s.spans[-1].start_seq == m.seq else None
        if span is None or span.interrupted is None or m.t is None:
            return
        item = _audio_item(s, span.interrupted)
        if item is None or item.audio_ms is None or item.first_audio_t is None:
            return
        if item.truncated_ms is not None:
            return
        ahead = item.audio_ms - (m.t - item.first_audio_t) * 1000
        if ahead > AHEAD_MS:
            self._waiting.append((span, item, round(ahead)))

    def _flush(self, s: SessionState, upto: float | None) -> None:
        keep = []
        for span, item, ahead in self._waiting:
            if (
                upto is not None
                and span.start_t is not None
                and upto - span.start_t < TRUNCATE_WAIT_S
            ):
                keep.append((span, item, ahead))
                continue
            self.report(
                s,
                span.start_seq,
                span.start_t,
                f"the user started speaking with {ahead} ms of assistant audio still unplayed, "
                f"and item {item.id} was never truncated",
                "on speech_started stop playback and send conversation.item.truncate with "
                "the audio_end_ms actually played",
                item_id=item.id,
                ahead_ms=ahead,
                generated_ms=round(item.audio_ms or 0),
            )
        self._waiting = keep

    def on_time(self, s: SessionState, t: float) -> None:
        if self._waiting:
            self._flush(s, t)

    def on_finish(self, s: SessionState) -> None:
        self._flush(s, None)


class TruncateOutOfRange(Rule):
    """A truncate beyond the audio generated for the item, or on an item without assistant audio.

    ``conversation.item.truncate.audio_end_ms`` must not exceed the audio the server generated
    for that item (from its delta bytes and the output format); the server answers "Audio
    content of Xms is already shorter than Yms" (then clamps). Only assistant audio items can be
    truncated ("Only model output audio messages can be truncated").

    Fix: compute ``audio_end_ms`` from the audio actually played, not a wall clock, and truncate
    only the assistant audio item being played.

    Example: 9 800 ms generated → ``conversation.item.truncate{audio_end_ms: 11579}``.
    """

    name = "truncate-out-of-range"
    severity = Severity.WARNING
    types = frozenset({"conversation.item.truncate", "error"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.type == "error":
            err = m.error
            if err is None or err.request is None:
                return
            if err.request.type != "conversation.item.truncate":
                return
            if self.name in err.request.flagged_by:
                return
            self.report(
                s,
                m.seq,
                m.t,
                f"the server refused a truncate: {err.message}",
                "truncate only assistant audio, to at most the audio generated",
                request_seq=err.request.seq,
                code=err.code,
            )
            return
        iid = m.event.get("item_id")
        end = m.event.get("audio_end_ms")
        item = s.item_kind(iid) if isinstance(iid, str) else None
        if item is None:
            return  # unknown item: say less (an excerpt may not show it)
        problem = None
        if item.role not in (None, "assistant") or (s.recorded and not item.has_audio):
            problem = f"item {iid} is a {item.role or item.type} item, not assistant audio"
        elif isinstance(end, int | float) and item.audio_ms is not None and end > item.audio_ms + 1:
            problem = (
                f"audio_end_ms {end} is beyond the {item.audio_ms:.0f} ms of audio generated "
                f"for item {iid}"
            )
        if problem is None:
            return
        if m.request is not None:
            m.request.flagged_by.add(self.name)  # its error is then explained
        self.report(
            s,
            m.seq,
            m.t,
            f"conversation.item.truncate out of range: {problem}",
            "compute audio_end_ms from the audio actually played; truncate only assistant audio",
            item_id=iid,
            audio_end_ms=end,
            generated_ms=None if item.audio_ms is None else round(item.audio_ms),
        )


class SpeechNeverStopped(Rule):
    """``speech_started`` without ``speech_stopped`` for more than 15 s while audio keeps coming.

    Server VAD thinks the user is still talking: the turn never ends and the app "hangs until
    the timeout". Causes: audio in another format than declared (noise-like input), constant
    background noise above the threshold.

    Fix: check the input format and the byte rate (rule ``audio-format-mismatch``), raise the VAD
    ``threshold``, or use manual turns.

    Example: ``speech_started`` at 3 s, appends until 40 s, no ``speech_stopped``.
    """

    name = "speech-never-stopped"
    severity = Severity.WARNING

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reported: set[int] = set()

    def on_time(self, s: SessionState, t: float) -> None:
        span = s.speech
        if span is None or span.start_t is None or span.start_seq in self._reported:
            return
        last = s.last_append_t
        if t - span.start_t <= SPEECH_TIMEOUT_S or last is None:
            return
        if last - span.start_t <= SPEECH_TIMEOUT_S:
            return  # appends stopped: not "while audio keeps coming"
        self._reported.add(span.start_seq)
        self.report(
            s,
            span.start_seq,
            span.start_t,
            f"speech started and did not stop for over {SPEECH_TIMEOUT_S:.0f} s while audio "
            "kept coming",
            "check the input audio format and byte rate; raise the VAD threshold in noisy "
            "rooms, or use manual turns",
            speaking_ms=gap_ms(t, span.start_t),
            input_format=s.config.get("input_format"),
        )


class AudioFormatMismatch(Rule):
    """The append byte rate over 5 s of streaming does not fit the declared input format.

    A real-time stream of pcm16 at 24 kHz mono is 48 000 bytes/s, g711 8 000 bytes/s. A rate
    that matches another common format (16 kHz pcm16 at 32 000 B/s, μ-law sent as pcm16,
    float32 at 96 000 B/s) means the declared format is wrong: VAD never fires, transcripts are
    garbage. Streams much faster than any real-time rate (file uploads) are not judged.

    Fix: resample/convert to the declared format, or declare what you send
    (``input_audio_format`` / ``audio.input.format``).

    Example: declared ``pcm16`` (24 kHz) while 32 000 bytes/s arrive → 16 kHz audio.
    """

    name = "audio-format-mismatch"
    severity = Severity.ERROR
    types = frozenset({"input_audio_buffer.append"})
    fast_events = types

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done = False
        self._next_check = RATE_WINDOW_S
        self._run: float | None = None

    def on_message(self, s: SessionState, m: Msg) -> None:
        self._check(s, m.seq, m.t)

    def on_counted(
        self,
        s: SessionState,
        seq: int,
        t: float | None,
        event: dict[str, Any],
        response: Response | None,
    ) -> None:
        start, last = s.run_start_t, s.run_last_t
        if start is not None and start == self._run and last is not None:
            if last - start < self._next_check:
                return  # (most appends: within a run, the next judgement not due yet)
        self._check(s, seq, t)

    def wants_counted(self, s: SessionState, etype: str) -> bool:
        return not self._done  # judged once per session

    def _check(self, s: SessionState, seq: int, t: float | None) -> None:
        if self._done or s.run_start_t is None or s.run_last_t is None:
            return
        span = s.run_last_t - s.run_start_t
        if s.run_start_t != self._run:
            self._run, self._next_check = s.run_start_t, RATE_WINDOW_S  # a new run of appends
        if span < self._next_check:
            return
        self._next_check = span + 1.0  # judge the rate at most once per second of streaming
        bpm = bytes_per_ms(s.config.get("input_format", "pcm16"))
        if bpm is None:
            return
        rate = s.run_bytes / span
        expected = bpm * 1000
        if abs(rate - expected) <= RATE_TOLERANCE * expected:
            return
        likely = [n for n, r in KNOWN_RATES.items() if abs(rate - r) <= RATE_TOLERANCE * r]
        if not likely:
            return
        self._done = True
        self.report(
            s,
            seq,
            t,
            f"audio arrives at {rate:.0f} bytes/s, which fits {likely[0]}, but the declared "
            f"input format {s.config.get('input_format', 'pcm16')} needs {expected:.0f} bytes/s",
            "convert the audio to the declared format, or declare the format you send",
            bytes_per_second=round(rate),
            expected_bytes_per_second=round(expected),
            window_s=round(span, 1),
            input_format=s.config.get("input_format", "pcm16"),
        )


class TranscriptionFailed(Rule):
    """Input transcription failed, or never arrived although it is enabled.

    ``conversation.item.input_audio_transcription.failed`` carries the reason (``server_error``,
    ``model_not_found`` when the project may not use the model). Apps often ignore it since it
    is outside the error stream. When transcription is enabled in the effective config and a
    committed user audio item gets neither ``.completed`` nor ``.failed`` by the end of a
    recorded connection (and at least 5 s after the item), it never arrived (excerpts are not
    judged).

    Fix: log ``.failed`` events; check the transcription model is allowed; remember there is no
    ``.done`` event (listen for ``.completed``).

    Example: ``{"type":"conversation.item.input_audio_transcription.failed","error":{"code":
    "model_not_found"}}``.
    """

    name = "transcription-failed"
    severity = Severity.WARNING
    types = frozenset({"conversation.item.input_audio_transcription.failed"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        err = m.event.get("error")
        err = err if isinstance(err, dict) else {}
        self.report(
            s,
            m.seq,
            m.t,
            f"input transcription failed for item {m.event.get('item_id')}: "
            f"{err.get('code') or err.get('type')}: {err.get('message') or ''}".rstrip(": "),
            "log transcription failures; check that the project may use the transcription model",
            item_id=m.event.get("item_id"),
            code=err.get("code"),
            transcription=s.config.get("transcription"),
        )

    def on_finish(self, s: SessionState) -> None:
        if not s.recorded or not isinstance(s.config.get("transcription"), dict):
            return
        missing = [
            i
            for i in s.committed_user_items
            if not i.transcription_done
            and i.t is not None
            and s.last_t is not None
            and s.last_t - i.t >= TRANSCRIPTION_WAIT_S
        ]
        if not missing:
            return
        self.report(
            s,
            missing[0].seq,
            missing[0].t,
            f"input transcription is enabled but never arrived for {len(missing)} user audio "
            "item(s)",
            "listen for conversation.item.input_audio_transcription.completed/.failed; check "
            "the transcription config in session.updated",
            item_ids=[i.id for i in missing][:20],
            transcription=s.config.get("transcription"),
        )
