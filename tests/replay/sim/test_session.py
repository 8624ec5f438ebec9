"""Session config: merging an accepted update, refusing a bad one without touching anything."""

from __future__ import annotations

import copy

from rtscope.replay.sim.session import Refusal, apply_update, default_session


def test_ga_update_merges_nested_audio_and_turn_detection():
    current = default_session("ga", "sess_1", "gpt-realtime", 0)
    new = apply_update(
        current,
        {
            "type": "realtime",
            "audio": {
                "input": {"turn_detection": {"silence_duration_ms": 900}},
                "output": {"voice": "ash"},
            },
        },
        "ga",
    )
    assert not isinstance(new, Refusal)
    td = new["audio"]["input"]["turn_detection"]
    assert td["silence_duration_ms"] == 900
    assert td["threshold"] == 0.5  # kept
    assert new["audio"]["output"]["voice"] == "ash"
    assert new["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}


def test_turn_detection_null_turns_vad_off():
    current = default_session("beta", "sess_1", "m", 0)
    new = apply_update(current, {"turn_detection": None}, "beta")
    assert not isinstance(new, Refusal)
    assert new["turn_detection"] is None


def test_a_refused_update_leaves_the_session_untouched():
    current = default_session("ga", "sess_1", "m", 0)
    before = copy.deepcopy(current)
    refusal = apply_update(current, {"type": "realtime", "instructions": "x", "bogus": 1}, "ga")
    assert refusal == Refusal(
        "unknown_parameter", "Unknown parameter: 'session.bogus'.", "session.bogus"
    )
    assert current == before


def test_session_must_be_an_object():
    current = default_session("ga", "sess_1", "m", 0)
    assert isinstance(apply_update(current, None, "ga"), Refusal)
    assert apply_update(current, "x", "ga").code == "invalid_type"  # type: ignore[union-attr]
