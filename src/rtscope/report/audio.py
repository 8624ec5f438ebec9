"""Realtime audio formats and their decoding to 16-bit PCM (for WAV export and the HTML report).

Formats, as a session declares them (see the protocol reference §2.3):

- beta: ``input_audio_format`` / ``output_audio_format`` strings ``pcm16`` (24 kHz, 16-bit
  little-endian mono), ``g711_ulaw``, ``g711_alaw`` (8 kHz, 8-bit);
- GA: ``audio.input.format`` / ``audio.output.format`` objects ``{"type": "audio/pcm",
  "rate": 24000}``, ``{"type": "audio/pcmu"}``, ``{"type": "audio/pcma"}``.

G.711 is decoded with tables computed here from the ITU-T G.711 segment rules (the algorithm of
the classic public-domain ``g711.c``), not with :mod:`audioop` (deprecated since Python 3.11,
removed in 3.13). Encoders are here too, for tests and simulators. Pure functions.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ALAW",
    "PCM16",
    "ULAW",
    "AudioFormat",
    "alaw_decode",
    "alaw_encode",
    "parse_format",
    "response_output_format",
    "session_formats",
    "to_pcm16",
    "to_wav",
    "wav_bytes",
    "ulaw_decode",
    "ulaw_encode",
]

Encoding = Literal["pcm16", "g711_ulaw", "g711_alaw"]


@dataclass(frozen=True)
class AudioFormat:
    """An audio encoding and its sample rate (mono)."""

    encoding: Encoding
    rate: int

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "pcm16" else 1

    @property
    def bytes_per_second(self) -> int:
        return self.rate * self.bytes_per_sample

    def seconds(self, nbytes: int) -> float:
        """Duration of ``nbytes`` of audio in this format."""
        return nbytes / self.bytes_per_second

    @property
    def label(self) -> str:
        return (
            f"{self.encoding} {self.rate // 1000} kHz"
            if self.rate % 1000 == 0
            else (f"{self.encoding} {self.rate} Hz")
        )


PCM16 = AudioFormat("pcm16", 24000)
ULAW = AudioFormat("g711_ulaw", 8000)
ALAW = AudioFormat("g711_alaw", 8000)

_BETA_NAMES: dict[str, AudioFormat] = {"pcm16": PCM16, "g711_ulaw": ULAW, "g711_alaw": ALAW}


def parse_format(value: Any) -> AudioFormat | None:
    """A beta format string or a GA format object → :class:`AudioFormat` (``None`` if unknown)."""
    if isinstance(value, str):
        return _BETA_NAMES.get(value)
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "audio/pcm":
            rate = value.get("rate")
            return AudioFormat("pcm16", rate if isinstance(rate, int) and rate > 0 else 24000)
        if kind == "audio/pcmu":
            return ULAW
        if kind == "audio/pcma":
            return ALAW
    return None


def session_formats(session: Any) -> tuple[AudioFormat | None, AudioFormat | None]:
    """(input, output) formats declared by a session object (beta or GA); ``None`` if absent."""
    if not isinstance(session, dict):
        return None, None
    in_fmt = parse_format(session.get("input_audio_format"))
    out_fmt = parse_format(session.get("output_audio_format"))
    audio = session.get("audio")
    if isinstance(audio, dict):
        audio_in = audio.get("input")
        audio_out = audio.get("output")
        if isinstance(audio_in, dict):
            in_fmt = parse_format(audio_in.get("format")) or in_fmt
        if isinstance(audio_out, dict):
            out_fmt = parse_format(audio_out.get("format")) or out_fmt
    return in_fmt, out_fmt


def response_output_format(response: Any) -> AudioFormat | None:
    """The output format a ``response.created`` echoes (beta or GA), if any."""
    return session_formats(response)[1] if isinstance(response, dict) else None


# --- G.711 ----------------------------------------------------------------------------------

_SIGN_BIT = 0x80
_QUANT_MASK = 0x0F
_SEG_SHIFT = 4
_SEG_MASK = 0x70
_ULAW_BIAS = 0x84
_ULAW_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    t = ((code & _QUANT_MASK) << 3) + _ULAW_BIAS
    t <<= (code & _SEG_MASK) >> _SEG_SHIFT
    return _ULAW_BIAS - t if code & _SIGN_BIT else t - _ULAW_BIAS


def _alaw_to_linear(code: int) -> int:
    code ^= 0x55
    t = (code & _QUANT_MASK) << 4
    seg = (code & _SEG_MASK) >> _SEG_SHIFT
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if code & _SIGN_BIT else -t


#: μ-law / A-law code → signed 16-bit sample (ITU-T G.711).
ULAW_TABLE: tuple[int, ...] = tuple(_ulaw_to_linear(c) for c in range(256))
ALAW_TABLE: tuple[int, ...] = tuple(_alaw_to_linear(c) for c in range(256))


def _split_tables(table: tuple[int, ...]) -> tuple[bytes, bytes]:
    low = bytes(v & 0xFF for v in table)
    high = bytes((v >> 8) & 0xFF for v in table)
    return low, high


_ULAW_LO, _ULAW_HI = _split_tables(ULAW_TABLE)
_ALAW_LO, _ALAW_HI = _split_tables(ALAW_TABLE)


def _decode(data: bytes, low: bytes, high: bytes) -> bytes:
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(low)
    out[1::2] = data.translate(high)
    return bytes(out)


def ulaw_decode(data: bytes) -> bytes:
    """G.711 μ-law bytes → 16-bit little-endian PCM."""
    return _decode(data, _ULAW_LO, _ULAW_HI)


def alaw_decode(data: bytes) -> bytes:
    """G.711 A-law bytes → 16-bit little-endian PCM."""
    return _decode(data, _ALAW_LO, _ALAW_HI)


def _linear_to_ulaw(sample: int) -> int:
    # 14-bit magnitude as in g711.c (and CPython's audioop): clip 8159, bias 0x21.
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + 0x21
    seg = next((i for i, end in enumerate(_ULAW_SEG_END) if value <= end), 8)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << _SEG_SHIFT) | ((value >> (seg + 1)) & _QUANT_MASK)) ^ mask


def _linear_to_alaw(sample: int) -> int:
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    seg = next((i for i, end in enumerate(_ALAW_SEG_END) if value <= end), 8)
    if seg >= 8:
        return 0x7F ^ mask
    code = seg << _SEG_SHIFT
    code |= (value >> 1 if seg < 2 else value >> seg) & _QUANT_MASK
    return code ^ mask


def _samples(pcm: bytes) -> list[int]:
    usable = len(pcm) - len(pcm) % 2
    return [int.from_bytes(pcm[i : i + 2], "little", signed=True) for i in range(0, usable, 2)]


def ulaw_encode(pcm: bytes) -> bytes:
    """16-bit little-endian PCM → G.711 μ-law."""
    return bytes(_linear_to_ulaw(s) for s in _samples(pcm))


def alaw_encode(pcm: bytes) -> bytes:
    """16-bit little-endian PCM → G.711 A-law."""
    return bytes(_linear_to_alaw(s) for s in _samples(pcm))


def wav_bytes(pcm16: bytes, rate: int) -> bytes:
    """A RIFF/WAVE file (PCM, mono, 16-bit) holding ``pcm16`` (a torn last sample dropped)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16[: len(pcm16) - len(pcm16) % 2])
    return buffer.getvalue()


def to_wav(data: bytes, fmt: AudioFormat | str | None) -> bytes:
    """Captured audio in ``fmt`` (an AudioFormat, or a beta name such as ``g711_ulaw``) as WAV."""
    parsed = fmt if isinstance(fmt, AudioFormat) else parse_format(fmt) or PCM16
    return wav_bytes(to_pcm16(data, parsed), parsed.rate)


def to_pcm16(data: bytes, fmt: AudioFormat) -> bytes:
    """Audio in ``fmt`` → 16-bit little-endian PCM at ``fmt.rate`` (a trailing odd byte dropped)."""
    if fmt.encoding == "g711_ulaw":
        return ulaw_decode(data)
    if fmt.encoding == "g711_alaw":
        return alaw_decode(data)
    return data[: len(data) - len(data) % 2]
