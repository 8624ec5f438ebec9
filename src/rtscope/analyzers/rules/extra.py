"""Further catalog entries that frames can show: beta API use (F-01), VAD silence (F-15),
cancel races (F-24)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...protocol.config import bytes_per_ms
from ...protocol.dialect import handshake_dialect
from ...protocol.session import Msg, SessionState
from ..findings import Severity
from ..registry import Rule

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
            m.seq,
            m.t,
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
