"""Client-event validation with the openai SDK types (protocol notes §5.2, §5.3 table)."""

from __future__ import annotations

import pytest

from rtscope.analyzers.schema import validate_client_event


def paths(problems):
    return [p.path for p in problems]


def test_valid_events_have_no_problem():
    assert validate_client_event({"type": "response.create"}, "ga") == []
    assert (
        validate_client_event({"type": "session.update", "session": {"type": "realtime"}}, "ga")
        == []
    )
    assert validate_client_event({"type": "input_audio_buffer.append", "audio": "AAAA"}, "ga") == []


def test_unknown_type_is_named():
    (p,) = validate_client_event({"type": "input_audio_buffer.flush"}, "ga")
    assert p.path == "$.type" and "input_audio_buffer.flush" in p.message


def test_ga_session_update_without_type_and_with_beta_fields():
    problems = validate_client_event(
        {"type": "session.update", "session": {"modalities": ["text"]}}, "ga"
    )
    assert paths(problems) == ["$.session.type"]
    with_type = validate_client_event(
        {"type": "session.update", "session": {"type": "realtime", "voice": "ash"}}, "ga"
    )
    assert paths(with_type) == ["$.session.voice"] and with_type[0].unknown_field


@pytest.mark.parametrize(
    ("role", "ctype", "allowed"),
    [
        ("user", "text", ["input_text", "input_audio", "input_image"]),
        ("system", "text", ["input_text"]),
        ("assistant", "text", ["output_text", "output_audio"]),
    ],
)
def test_ga_content_type_per_role_names_the_allowed_values(role, ctype, allowed):
    event = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": role, "content": [{"type": ctype, "text": "x"}]},
    }
    problems = validate_client_event(event, "ga")
    assert problems[0].path == "$.item.content[0].type"
    assert list(problems[0].allowed) == allowed


def test_beta_role_table_is_applied_by_hand():
    user_text = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "text", "text": "x"}]},
    }
    (p,) = validate_client_event(user_text, "beta")
    assert p.path == "$.item.content[0].type" and list(p.allowed) == ["input_text", "input_audio"]
    assistant_text = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "x"}],
        },
    }
    assert validate_client_event(assistant_text, "beta") == []


def test_append_is_checked_without_the_sdk():
    problems = validate_client_event({"type": "input_audio_buffer.append", "data": "x"}, "ga")
    assert paths(problems) == ["$.audio", "$.data"]


def test_dropped_audio_digest_counts_as_audio():
    event = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": {"bytes": 4800, "sha256": "ab"}}],
        },
    }
    assert validate_client_event(event, "ga") == []
