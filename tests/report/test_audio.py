"""G.711 tables against independent references, format parsing for beta and GA sessions."""

from __future__ import annotations

import math
import struct
import warnings

import pytest

from rtscope.report.audio import (
    ALAW,
    ALAW_TABLE,
    PCM16,
    ULAW,
    ULAW_TABLE,
    AudioFormat,
    alaw_decode,
    alaw_encode,
    parse_format,
    session_formats,
    to_pcm16,
    ulaw_decode,
    ulaw_encode,
)


def samples(pcm: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(pcm) // 2}h", pcm))


def test_reference_points_of_the_g711_tables() -> None:
    # ITU-T G.711 end points and zero codes (as in the public-domain g711.c reference).
    assert (ULAW_TABLE[0x00], ULAW_TABLE[0x80], ULAW_TABLE[0x7F], ULAW_TABLE[0xFF]) == (
        -32124,
        32124,
        0,
        0,
    )
    assert (ALAW_TABLE[0x55], ALAW_TABLE[0xD5], ALAW_TABLE[0x2A], ALAW_TABLE[0xAA]) == (
        -8,
        8,
        -32256,
        32256,
    )


def test_tables_match_cpython_audioop_for_every_code_and_sample() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")  # removed in 3.13: an oracle only where present
    codes = bytes(range(256))
    assert ulaw_decode(codes) == audioop.ulaw2lin(codes, 2)
    assert alaw_decode(codes) == audioop.alaw2lin(codes, 2)
    every = struct.pack("<65536h", *range(-32768, 32768))
    assert ulaw_encode(every) == audioop.lin2ulaw(every, 2)
    assert alaw_encode(every) == audioop.lin2alaw(every, 2)


@pytest.mark.parametrize(
    ("encode", "decode"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)]
)
def test_a_sine_survives_a_g711_round_trip(encode, decode) -> None:  # type: ignore[no-untyped-def]
    tone = [int(12000 * math.sin(2 * math.pi * 1000 * i / 8000)) for i in range(800)]
    pcm = struct.pack(f"<{len(tone)}h", *tone)
    back = samples(decode(encode(pcm)))
    noise = sum((a - b) ** 2 for a, b in zip(tone, back, strict=True))
    signal = sum(a * a for a in tone)
    assert 10 * math.log10(signal / noise) > 30  # G.711 gives ~38 dB SNR on a loud tone
    assert all(abs(a - b) <= max(16, abs(a) // 16) for a, b in zip(tone, back, strict=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pcm16", PCM16),
        ("g711_ulaw", ULAW),
        ("g711_alaw", ALAW),
        ({"type": "audio/pcm", "rate": 24000}, PCM16),
        ({"type": "audio/pcm"}, PCM16),
        ({"type": "audio/pcmu"}, ULAW),
        ({"type": "audio/pcma"}, ALAW),
        ("opus", None),
        (None, None),
    ],
)
def test_parse_format_for_both_dialects(value: object, expected: AudioFormat | None) -> None:
    assert parse_format(value) == expected


def test_session_formats_beta_and_ga() -> None:
    beta = {"input_audio_format": "g711_alaw", "output_audio_format": "pcm16"}
    ga = {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcmu"}}, "output": {}}}
    assert session_formats(beta) == (ALAW, PCM16)
    assert session_formats(ga) == (ULAW, None)
    assert session_formats("nonsense") == (None, None)


def test_durations_and_pcm16_passthrough() -> None:
    assert PCM16.seconds(48000) == 1.0 and ULAW.seconds(8000) == 1.0
    assert to_pcm16(b"\x01\x02\x03", PCM16) == b"\x01\x02"
    assert samples(to_pcm16(b"\xff\x7f", ULAW)) == [0, 0]


def test_to_wav_decodes_g711_at_8khz_and_drops_a_torn_last_pcm16_sample() -> None:
    import io
    import wave

    from rtscope.report.audio import to_wav

    with wave.open(io.BytesIO(to_wav(bytes([0xFF, 0x7F, 0x00]), "g711_ulaw"))) as w:
        assert (w.getframerate(), w.getnframes(), w.getsampwidth()) == (8000, 3, 2)
    with wave.open(io.BytesIO(to_wav(b"\x01\x02\x03", {"type": "audio/pcm", "rate": 24000}))) as w:
        assert (w.getframerate(), w.getnframes()) == (24000, 1)
        assert w.readframes(1) == b"\x01\x02"
