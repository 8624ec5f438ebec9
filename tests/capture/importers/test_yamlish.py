"""YAML blocks: indented YAML through ruamel, flattened YAML rebuilt from the SDK's schemas."""

from __future__ import annotations

import pytest

from rtscope.capture.importers.yamlish import YamlError, load_block, split_key


def test_split_key() -> None:
    assert split_key("timestamp: 2024-10-17T11:45:04+02:00") == (
        "timestamp",
        "2024-10-17T11:45:04+02:00",
    )
    assert split_key("item:") == ("item", None)
    assert split_key("'odd key': 3") == ("odd key", "3")
    assert split_key("- type: x") is None
    assert split_key("http://example.com") is None
    assert split_key("just prose") is None


def test_indented_yaml_is_read_as_written() -> None:
    block = ["type: session.update", "session:", "  voice: ash", "  tools: []"]
    assert load_block(block) == {"type": "session.update", "session": {"voice": "ash", "tools": []}}


def test_flattened_yaml_closes_objects_by_the_event_schema() -> None:
    # A GA session.update, flattened: 'audio' > 'input' > 'format' then back to session level.
    block = [
        "type: session.update",
        "session:",
        "type: realtime",
        "audio:",
        "input:",
        "format:",
        "type: audio/pcmu",
        "output:",
        "voice: marin",
        "instructions: Be brief.",
        "output_modalities:",
        "- audio",
    ]
    assert load_block(block) == {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {"input": {"format": {"type": "audio/pcmu"}}, "output": {"voice": "marin"}},
            "instructions": "Be brief.",
            "output_modalities": ["audio"],
        },
    }


def test_flattened_yaml_empty_key_before_a_sibling_is_null() -> None:
    block = [
        "type: session.updated",
        "session:",
        "input_audio_noise_reduction:",
        "turn_detection:",
        "type: server_vad",
        "voice: ash",
    ]
    assert load_block(block) == {
        "type": "session.updated",
        "session": {
            "input_audio_noise_reduction": None,
            "turn_detection": {"type": "server_vad"},
            "voice": "ash",
        },
    }


def test_flattened_scalars_follow_yaml() -> None:
    block = [
        "type: response.text.delta",
        "delta: '!'",
        "n: 3",
        "x: 0.5",
        'q: " I\'m"',
        "e: ''",
        "z: ~",
        "inf: inf",
    ]
    assert load_block(block) == {
        "type": "response.text.delta",
        "delta": "!",
        "n": 3,
        "x": 0.5,
        "q": " I'm",
        "e": "",
        "z": None,
        "inf": "inf",
    }


def test_broken_indented_yaml_raises_yaml_error_with_a_line() -> None:
    with pytest.raises(YamlError) as info:
        load_block(["type: error", "error:", "  code: [oops"])
    assert info.value.line is not None
