"""rtscope.report.pcm: G.711 decoding (checked against the standard library's audioop) and WAV."""

from __future__ import annotations

import io
import struct
import warnings
import wave

import pytest

from rtscope.report.pcm import alaw_to_pcm16, to_wav, ulaw_to_pcm16

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")  # removed in Python 3.13: the reference decoder

EVERY_BYTE = bytes(range(256))


def test_ulaw_decoding_matches_audioop_for_every_code() -> None:
    assert ulaw_to_pcm16(EVERY_BYTE) == audioop.ulaw2lin(EVERY_BYTE, 2)


def test_alaw_decoding_matches_audioop_for_every_code() -> None:
    assert alaw_to_pcm16(EVERY_BYTE) == audioop.alaw2lin(EVERY_BYTE, 2)


@pytest.mark.parametrize(("fmt", "rate", "frames"), [("pcm16", 24000, 3), ("g711_ulaw", 8000, 6)])
def test_to_wav_writes_a_mono_16_bit_file_the_wave_module_reads(
    fmt: str, rate: int, frames: int
) -> None:
    data = struct.pack("<3h", 0, 1000, -1000) if fmt == "pcm16" else bytes(range(6))
    with wave.open(io.BytesIO(to_wav(data, fmt))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, rate)
        assert w.getnframes() == frames


def test_to_wav_drops_a_torn_last_byte() -> None:
    with wave.open(io.BytesIO(to_wav(b"\x01\x02\x03", "pcm16"))) as w:
        assert w.getnframes() == 1
