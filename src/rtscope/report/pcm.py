"""Decode captured audio to WAV for the HTML report's players: pcm16, G.711 μ-law and A-law.

Realtime audio is mono: pcm16 at 24 kHz (little-endian), G.711 at 8 kHz. G.711 is expanded to
pcm16 with the ITU-T G.711 rules (table-driven; no ``audioop``, which Python 3.13 removed).

Note: the importers helper writes ``rtscope.report.audio``/``wav`` for ``export --wav``; this
small module exists so the report does not wait on it, and is meant to be merged with it.
"""

from __future__ import annotations

import struct

__all__ = ["SAMPLE_RATES", "alaw_to_pcm16", "to_wav", "ulaw_to_pcm16", "wav_bytes"]

#: Sample rate by format name (mono).
SAMPLE_RATES: dict[str, int] = {"pcm16": 24000, "g711_ulaw": 8000, "g711_alaw": 8000}


def _ulaw(byte: int) -> int:
    u = ~byte & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if sign else magnitude


def _alaw(byte: int) -> int:
    a = byte ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    if exponent == 0:
        magnitude = (mantissa << 4) + 8
    else:
        magnitude = ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if sign else -magnitude


_ULAW = [struct.pack("<h", _ulaw(b)) for b in range(256)]
_ALAW = [struct.pack("<h", _alaw(b)) for b in range(256)]


def ulaw_to_pcm16(data: bytes) -> bytes:
    """G.711 μ-law bytes → 16-bit little-endian samples."""
    return b"".join(_ULAW[b] for b in data)


def alaw_to_pcm16(data: bytes) -> bytes:
    """G.711 A-law bytes → 16-bit little-endian samples."""
    return b"".join(_ALAW[b] for b in data)


def wav_bytes(pcm16: bytes, rate: int) -> bytes:
    """A RIFF/WAVE file (PCM, mono, 16-bit) holding ``pcm16``."""
    if len(pcm16) % 2:
        pcm16 = pcm16[:-1]  # a torn last sample (odd byte count) cannot be played
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm16),
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        rate,
        rate * 2,
        2,
        16,
        b"data",
        len(pcm16),
    )
    return header + pcm16


def to_wav(data: bytes, fmt: str) -> bytes:
    """Captured audio of format ``fmt`` (``pcm16``, ``g711_ulaw``, ``g711_alaw``) as a WAV file."""
    if fmt == "g711_ulaw":
        return wav_bytes(ulaw_to_pcm16(data), SAMPLE_RATES[fmt])
    if fmt == "g711_alaw":
        return wav_bytes(alaw_to_pcm16(data), SAMPLE_RATES[fmt])
    return wav_bytes(data, SAMPLE_RATES["pcm16"])
