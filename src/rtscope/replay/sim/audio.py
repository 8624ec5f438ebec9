"""Audio for the simulator: byte rates, G.711 decoding, frame energy and a synthetic tone.

No ``audioop`` (deprecated, gone in 3.13): the G.711 decoders are the ITU-T formulas as tables.
Everything works on ``bytes`` and returns plain numbers; nothing here does I/O.
"""

from __future__ import annotations

import bisect
import functools
import math
import struct
from array import array

__all__ = [
    "BYTES_PER_MS",
    "frame_levels",
    "rate_of",
    "tone",
]

#: Bytes per millisecond of each wire format (mono): pcm16 24 kHz = 48, G.711 8 kHz = 8.
BYTES_PER_MS: dict[str, int] = {"pcm16": 48, "g711_ulaw": 8, "g711_alaw": 8}


def rate_of(fmt: str) -> int:
    """Bytes per ms of a beta format name (``pcm16``…); unknown names count as pcm16."""
    return BYTES_PER_MS.get(fmt, 48)


def _ulaw(byte: int) -> int:
    u = ~byte & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return (0x84 - t) if (u & 0x80) else (t - 0x84)


def _alaw(byte: int) -> int:
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if (a & 0x80) else -t


_ULAW = [_ulaw(b) for b in range(256)]
_ALAW = [_alaw(b) for b in range(256)]


def _samples(data: bytes, fmt: str) -> list[int]:
    if fmt == "g711_ulaw":
        return [_ULAW[b] for b in data]
    if fmt == "g711_alaw":
        return [_ALAW[b] for b in data]
    usable = len(data) - (len(data) % 2)
    pcm = array("h")
    pcm.frombytes(data[:usable])
    return pcm.tolist()


def frame_levels(data: bytes, fmt: str, frame_ms: int = 10) -> list[float]:
    """RMS level (0.0‥1.0 of full scale) of each whole ``frame_ms`` frame of ``data``."""
    samples = _samples(data, fmt)
    per_frame = (BYTES_PER_MS.get(fmt, 48) * frame_ms) // (1 if fmt.startswith("g711") else 2)
    levels = []
    for start in range(0, len(samples) - per_frame + 1, per_frame):
        frame = samples[start : start + per_frame]
        levels.append(math.sqrt(sum(s * s for s in frame) / len(frame)) / 32768.0)
    return levels


def _encoder(table: list[int]) -> tuple[list[int], list[int]]:
    pairs = sorted((value, code) for code, value in enumerate(table))
    return [v for v, _ in pairs], [c for _, c in pairs]


_ENCODERS = {"g711_ulaw": _encoder(_ULAW), "g711_alaw": _encoder(_ALAW)}


def _encode_g711(value: int, fmt: str) -> int:
    values, codes = _ENCODERS[fmt]
    i = bisect.bisect_left(values, value)
    if i == len(values) or (i > 0 and value - values[i - 1] < values[i] - value):
        i -= 1
    return codes[i]


@functools.lru_cache(maxsize=16)
def _period(fmt: str, freq: float, amplitude: float, rate: int, count: int) -> bytes:
    peak = int(32767 * amplitude)
    values = [int(peak * math.sin(2 * math.pi * freq * i / rate)) for i in range(count)]
    if fmt == "pcm16":
        return struct.pack(f"<{count}h", *values)
    return bytes(_encode_g711(v, fmt) for v in values)


def tone(
    ms: int, fmt: str, *, freq: float = 400.0, amplitude: float = 0.25, start_ms: int = 0
) -> bytes:
    """``ms`` milliseconds of a sine tone in wire format ``fmt``, continuing a tone that started
    ``start_ms`` earlier. The simulator's synthetic speech. Cheap: one period is computed once
    and repeated (``freq`` should divide the sample rate; 400 Hz and 200 Hz do)."""
    rate = 24000 if fmt == "pcm16" else 8000
    width = 2 if fmt == "pcm16" else 1
    period = round(rate / freq)
    cycle = _period(fmt, rate / period, amplitude, rate, period)
    first = (start_ms * rate // 1000) % period
    count = ms * rate // 1000
    reps = (first + count) // period + 1
    return (cycle * reps)[first * width : (first + count) * width]
