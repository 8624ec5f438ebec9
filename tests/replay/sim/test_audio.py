"""Audio helpers: G.711 decoding (ITU-T reference values), frame energy, tone byte rates."""

from __future__ import annotations

import pytest

from rtscope.replay.sim.audio import _ALAW, _ULAW, BYTES_PER_MS, frame_levels, tone


def test_g711_decoders_match_the_reference_values():
    # μ-law: 0xFF and 0x7F are the two zeros, 0x00 is the negative peak -32124, 0x80 +32124.
    assert (_ULAW[0xFF], _ULAW[0x7F], _ULAW[0x00], _ULAW[0x80]) == (0, 0, -32124, 32124)
    # A-law: 0xD5 decodes to +8 and 0x55 to -8 (the smallest magnitudes), 0xAA to +32256.
    assert (_ALAW[0xD5], _ALAW[0x55], _ALAW[0xAA]) == (8, -8, 32256)


@pytest.mark.parametrize("fmt", ["pcm16", "g711_ulaw", "g711_alaw"])
def test_tone_has_the_byte_rate_of_its_format_and_continues_across_calls(fmt):
    assert len(tone(250, fmt)) == 250 * BYTES_PER_MS[fmt]
    assert tone(100, fmt) + tone(100, fmt, start_ms=100) == tone(200, fmt)


@pytest.mark.parametrize("fmt", ["pcm16", "g711_ulaw", "g711_alaw"])
def test_a_quarter_scale_tone_is_about_0_177_rms_and_silence_is_zero(fmt):
    levels = frame_levels(tone(100, fmt), fmt)
    assert len(levels) == 10
    assert all(abs(level - 0.25 / 2**0.5) < 0.01 for level in levels)  # sine RMS = peak/√2
    silence = {"pcm16": b"\x00", "g711_ulaw": b"\xff", "g711_alaw": b"\xd5"}[fmt]
    assert max(frame_levels(silence * (BYTES_PER_MS[fmt] * 100), fmt)) < 0.001
