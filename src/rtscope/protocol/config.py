"""Session configuration of both dialects, flattened to one vocabulary (pure functions).

The beta dialect keeps the session flat (``modalities``, ``voice``, ``input_audio_format``…); GA
nests audio settings under ``audio.input`` / ``audio.output`` and renames ``modalities`` to
``output_modalities``. Rules compare configurations, so both are mapped onto the same keys:

=====================  ===================================  =======================================
key                    beta                                 GA
=====================  ===================================  =======================================
``modalities``         ``modalities``                       ``output_modalities``
``voice``              ``voice``                            ``audio.output.voice``
``input_format``       ``input_audio_format``               ``audio.input.format``
``output_format``      ``output_audio_format``              ``audio.output.format``
``turn_detection``     ``turn_detection``                   ``audio.input.turn_detection``
``transcription``      ``input_audio_transcription``        ``audio.input.transcription``
``instructions``       ``instructions``                     ``instructions``
``max_output_tokens``  ``max_response_output_tokens``       ``max_output_tokens``
``tools``              ``tools``                            ``tools``
=====================  ===================================  =======================================

A key is present only when the source object holds it, so ``turn_detection: None`` (VAD off)
differs from "not mentioned". Formats become ``"pcm16"``, ``"g711_ulaw"``, ``"g711_alaw"``, or
``"pcm16@<rate>"`` for PCM at another rate than 24 kHz.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONFIG_KEYS",
    "as_list",
    "bytes_per_ms",
    "has_audio",
    "normalize_format",
    "normalize_session",
]

CONFIG_KEYS = (
    "modalities",
    "voice",
    "input_format",
    "output_format",
    "turn_detection",
    "transcription",
    "instructions",
    "max_output_tokens",
    "tools",
)

_FLAT = {
    "modalities": "modalities",
    "output_modalities": "modalities",
    "voice": "voice",
    "input_audio_format": "input_format",
    "output_audio_format": "output_format",
    "turn_detection": "turn_detection",
    "input_audio_transcription": "transcription",
    "instructions": "instructions",
    "max_response_output_tokens": "max_output_tokens",
    "max_output_tokens": "max_output_tokens",
    "tools": "tools",
}
_GA_INPUT = {"format": "input_format", "turn_detection": "turn_detection"}
_GA_INPUT |= {"transcription": "transcription"}
_GA_OUTPUT = {"format": "output_format", "voice": "voice"}

_MIME = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}


def normalize_format(value: Any) -> str | None:
    """``"pcm16"`` / ``{"type": "audio/pcm", "rate": 24000}`` → ``"pcm16"``; unknown → ``None``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        name = _MIME.get(str(value.get("type")))
        if name is None:
            return None
        rate = value.get("rate")
        if name == "pcm16" and isinstance(rate, int) and rate != 24000:
            return f"pcm16@{rate}"
        return name
    return None


def bytes_per_ms(fmt: str | None) -> float | None:
    """Bytes of audio per millisecond for a normalized format (pcm16 24 kHz mono: 48)."""
    if fmt is None:
        return None
    if fmt in ("g711_ulaw", "g711_alaw"):
        return 8.0
    if fmt == "pcm16":
        return 48.0
    if fmt.startswith("pcm16@"):
        try:
            return int(fmt[6:]) * 2 / 1000
        except ValueError:
            return None
    return None


def _clean(key: str, value: Any) -> Any:
    if key in ("input_format", "output_format"):
        return normalize_format(value)
    if key == "modalities":
        return sorted(str(m) for m in value) if isinstance(value, list) else None
    if key == "transcription" and not isinstance(value, dict):
        # Loggers render null as '' (seed 002); only an object enables transcription.
        return None
    if key == "tools":
        return len(value) if isinstance(value, list) else None
    return value


def normalize_session(session: Any) -> dict[str, Any]:
    """The flattened view of a beta or GA session object (or a ``response`` object's overrides)."""
    out: dict[str, Any] = {}
    if not isinstance(session, dict):
        return out
    for field, key in _FLAT.items():
        if field in session:
            out[key] = _clean(key, session[field])
    audio = session.get("audio")
    if isinstance(audio, dict):
        for part, table in (("input", _GA_INPUT), ("output", _GA_OUTPUT)):
            sub = audio.get(part)
            if isinstance(sub, dict):
                for field, key in table.items():
                    if field in sub:
                        out[key] = _clean(key, sub[field])
    return out


def has_audio(modalities: Any) -> bool:
    """Whether a normalized ``modalities`` value asks for audio output."""
    return isinstance(modalities, list) and "audio" in modalities


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else ``[]``: event fields are iterated without trusting them."""
    return value if isinstance(value, list) else []
