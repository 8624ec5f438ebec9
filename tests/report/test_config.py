"""rtscope.report.config: effective session config and what each session.updated changed."""

from __future__ import annotations

from rtscope.report.config import MISSING, Change, SessionConfig, audio_format, diff


def test_audio_format_reads_beta_and_ga_and_defaults_to_pcm16() -> None:
    assert audio_format({"input_audio_format": "g711_alaw"}, "input") == "g711_alaw"
    ga = {"audio": {"output": {"format": {"type": "audio/pcmu"}}}}
    assert audio_format(ga, "output") == "g711_ulaw"
    assert audio_format(ga, "input") == "pcm16"
    assert audio_format(None, "input") == "pcm16"


def test_diff_lists_nested_changes_as_paths_and_skips_expires_at() -> None:
    old = {"modalities": ["text"], "td": {"silence_duration_ms": 200}, "expires_at": 1}
    new = {"modalities": ["text", "audio"], "td": {"silence_duration_ms": 500}, "expires_at": 2}
    assert diff(old, new) == [
        Change("modalities", ["text"], ["text", "audio"]),
        Change("td.silence_duration_ms", 200, 500),
    ]


def test_diff_reports_a_value_that_became_an_object_as_one_change() -> None:
    changes = diff({"transcription": None}, {"transcription": {"model": "whisper-1"}})
    assert changes == [Change("transcription", None, {"model": "whisper-1"})]
    assert diff({}, {"voice": "ash"}) == [Change("voice", MISSING, "ash")]


def test_session_config_applies_only_server_session_events() -> None:
    config = SessionConfig()
    assert config.apply({"type": "session.update", "session": {"voice": "x"}}) is None
    assert config.session is None  # a client request is not the effective config
    config.apply({"type": "session.created", "session": {"output_audio_format": "g711_ulaw"}})
    assert config.bytes_per_ms("output") == 8
    changes = config.apply({"type": "session.updated", "session": {"output_audio_format": "pcm16"}})
    assert changes == [Change("output_audio_format", "g711_ulaw", "pcm16")]
    assert config.bytes_per_ms("output") == 48
