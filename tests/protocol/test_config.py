"""The beta and GA session shapes map onto one vocabulary (protocol notes §2.3)."""

from rtscope.protocol.config import bytes_per_ms, has_audio, normalize_format, normalize_session


def test_beta_flat_session_is_normalized():
    session = {
        "modalities": ["text", "audio"],
        "voice": "ash",
        "input_audio_format": "g711_ulaw",
        "output_audio_format": "pcm16",
        "turn_detection": None,
        "input_audio_transcription": {"model": "whisper-1"},
        "max_response_output_tokens": "inf",
    }
    assert normalize_session(session) == {
        "modalities": ["audio", "text"],
        "voice": "ash",
        "input_format": "g711_ulaw",
        "output_format": "pcm16",
        "turn_detection": None,
        "transcription": {"model": "whisper-1"},
        "max_output_tokens": "inf",
    }


def test_ga_nested_session_is_normalized():
    session = {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None},
            "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"},
        },
    }
    assert normalize_session(session) == {
        "modalities": ["audio"],
        "input_format": "pcm16",
        "turn_detection": None,
        "output_format": "g711_ulaw",
        "voice": "marin",
    }


def test_absent_keys_stay_absent_and_odd_values_do_not_raise():
    assert normalize_session({}) == {}
    assert normalize_session(None) == {}
    assert normalize_session({"modalities": "text", "audio": 5}) == {"modalities": None}


def test_empty_transcription_logged_as_empty_string_means_disabled():
    # seed 002's logger writes null as ''
    assert normalize_session({"input_audio_transcription": ""}) == {"transcription": None}


def test_formats_and_byte_rates():
    assert normalize_format({"type": "audio/pcm", "rate": 16000}) == "pcm16@16000"
    assert normalize_format({"type": "audio/pcma"}) == "g711_alaw"
    assert normalize_format({"type": "audio/flac"}) is None
    assert bytes_per_ms("pcm16") == 48
    assert bytes_per_ms("g711_alaw") == 8
    assert bytes_per_ms("pcm16@16000") == 32
    assert bytes_per_ms("opus") is None
    assert has_audio(["audio", "text"]) and not has_audio(["text"]) and not has_audio(None)
