"""Input audio of the simulator: append, commit, clear, and server VAD driven by energy."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .audio import BYTES_PER_MS, frame_levels
from .base import ACK_S, SessionBase
from .session import (
    audio_format,
    turn_detection_of,
)

_VAD_FRAME_MS = 10


class InputMixin(SessionBase):
    """Audio buffer and server VAD."""

    def _on_input_audio_buffer_append(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        audio = event.get("audio")
        try:
            if not isinstance(audio, str):
                raise ValueError
            data = base64.b64decode(audio, validate=True)
        except (ValueError, binascii.Error):
            self._refuse(
                now,
                "invalid_value",
                "Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but "
                "got a value that could not be decoded.",
                "audio",
                client_id,
            )
            return
        fmt = audio_format(self.session, self.dialect, "input")
        self._buffer += data
        td = turn_detection_of(self.session, self.dialect)
        if td is None:
            self._stream_ms += len(data) // BYTES_PER_MS[fmt]
            return
        self._run_vad(now, self._carry + data, fmt, td)

    def _run_vad(self, now: float, data: bytes, fmt: str, td: dict[str, Any]) -> None:
        frame_bytes = BYTES_PER_MS[fmt] * _VAD_FRAME_MS
        whole = len(data) - len(data) % frame_bytes
        self._carry = data[whole:]
        # threshold 0.5 (the default) → speech above 2 % of full scale (about -34 dBFS).
        level_threshold = float(td.get("threshold", 0.5)) * 0.04
        silence_ms = int(td.get("silence_duration_ms", 500) or 500)
        if td.get("type") == "semantic_vad":
            silence_ms = 500
        prefix_ms = int(td.get("prefix_padding_ms", 300) or 0)
        for level in frame_levels(data[:whole], fmt, _VAD_FRAME_MS):
            position = self._stream_ms
            self._stream_ms += _VAD_FRAME_MS
            if level > level_threshold:
                self._last_speech_end = self._stream_ms
                if not self._speaking:
                    self._speaking = True
                    self._speech_item = self._id("item_")
                    self._send(
                        now,
                        "input_audio_buffer.speech_started",
                        audio_start_ms=max(0, position - prefix_ms),
                        item_id=self._speech_item,
                    )
                    if self.active is not None and td.get("interrupt_response", True):
                        self._cancel(now, "turn_detected")
            elif self._speaking and self._stream_ms - self._last_speech_end >= silence_ms:
                self._speaking = False
                item_id = self._speech_item or self._id("item_")
                self._send(
                    now,
                    "input_audio_buffer.speech_stopped",
                    audio_end_ms=self._stream_ms,
                    item_id=item_id,
                )
                self._commit(now, item_id)
                if td.get("create_response", True) and self.active is None:
                    self._start_response(now, {})

    def _commit(self, now: float, item_id: str) -> None:
        prev = self._previous_id()
        self._send(now, "input_audio_buffer.committed", previous_item_id=prev, item_id=item_id)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self._buffer.clear()
        self._add_item(now, item)
        transcription = (
            self.session.get("input_audio_transcription")
            if self.dialect == "beta"
            else self.session.get("audio", {}).get("input", {}).get("transcription")
        )
        if transcription:
            self._send(
                now + 0.05,
                "conversation.item.input_audio_transcription.completed",
                item_id=item_id,
                content_index=0,
                transcript="(simulated transcript of the user's audio)",
            )

    def _on_input_audio_buffer_commit(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        fmt = audio_format(self.session, self.dialect, "input")
        ms = len(self._buffer) / BYTES_PER_MS[fmt]
        if ms < 100:
            self._refuse(
                now,
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {ms:.2f}ms of audio.",
                None,
                client_id,
            )
            return
        self._speaking = False
        self._commit(now + ACK_S, self._speech_item or self._id("item_"))
        self._speech_item = None

    def _on_input_audio_buffer_clear(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        self._buffer.clear()
        self._carry = b""
        self._speaking = False
        self._speech_item = None
        self._send(now + ACK_S, "input_audio_buffer.cleared")
