"""Client-event validation with the openai SDK types (protocol notes §5.2, §5.3 table)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtscope.analyzers.schema import validate_client_event, validate_with_sdk
from rtscope.capture.sources import open_source

FIXTURES = Path(__file__).parents[1] / "fixtures"


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
    assert paths(problems) == ["$.session.type", "$.session.modalities"]  # hard ones first
    assert [p.unknown_field for p in problems] == [False, True]
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


def test_pcm_rate_other_than_24k_names_the_allowed_rate():
    event = {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
        },
    }
    (p,) = validate_client_event(event, "ga")
    assert p.path == "$.session.audio.input.format.rate" and p.allowed == ("24000",)


# Events of protocol notes §5.3 plus every client event of the fixtures and seeds.
HAND_MADE = [
    {"type": "input_audio_buffer.flush"},
    {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "system", "content": [{"type": "text", "text": "x"}]},
    },
    {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "modalities": ["text"],
            "voice": "x",
            "turn_detection": None,
        },
    },
    {
        "type": "session.update",
        "session": {"type": "realtime", "output_modalities": ["text", "audio"]},
    },
    {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"format": "pcm16"}}},
    },
    {"type": "input_audio_buffer.append"},
    {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": "c",
            "role": "tool",
            "content": [{"type": "text", "text": "x"}],
        },
    },
    {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": "c", "output": "x", "role": "tool"},
    },
    {"type": "response.create", "response": {"modalities": ["audio"]}},
    {"type": "response.create", "response": {"tools": ["get_weather"]}},
    {
        "type": "response.create",
        "response": {
            "output_modalities": ["audio"],
            "metadata": {"a": "b"},
            "conversation": "none",
        },
    },
    {
        "type": "session.update",
        "session": {
            "type": "transcription",
            "audio": {"input": {"transcription": {"model": "whisper-1"}}},
        },
    },
]


def _client_events() -> list[dict]:
    events = []
    for path in sorted(FIXTURES.glob("*/*.jsonl")):
        for r in open_source(path):
            if r.get("kind") == "msg" and r.get("from") == "client" and "event" in r:
                events.append(r["event"])
    return events + HAND_MADE


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_shipped_schema_agrees_with_the_sdk_models(dialect):
    from rtscope.analyzers.jsonschema import validate
    from rtscope.analyzers.schema import _strip_digests

    for event in _client_events():
        sdk = validate_with_sdk(event, dialect)
        fast = validate(_strip_digests(event), dialect)
        hard_sdk = sorted(p.path for p in sdk if not p.unknown_field)
        hard_fast = sorted(p.path for p in fast if not p.unknown_field)
        assert hard_fast == hard_sdk, json.dumps(event)
        if not sdk:  # the SDK lists unknown fields only for events it accepts
            assert [p.path for p in fast if p.unknown_field] == [], json.dumps(event)
        elif not hard_sdk:
            assert sorted(p.path for p in fast) == sorted(p.path for p in sdk), json.dumps(event)


def test_numeric_strings_are_refused_unlike_pydantic_lax_mode():
    event = {
        "type": "conversation.item.truncate",
        "item_id": "a",
        "content_index": 0,
        "audio_end_ms": "100",
    }
    assert validate_with_sdk(event, "ga") == []
    assert [p.path for p in validate_client_event(event, "ga")] == ["$.audio_end_ms"]


def test_shipped_schema_matches_the_installed_sdk():
    from rtscope.analyzers.jsonschema import load_schemas
    from rtscope.analyzers.schema import generate_schemas

    assert load_schemas() == generate_schemas(), (
        "client_events.schema.json is stale: run python -m rtscope.analyzers.schema"
    )


def test_cached_results_do_not_mix_events_that_differ_only_in_event_id_type() -> None:
    from rtscope.analyzers.schema import validate_client_event

    ok = {"type": "response.cancel", "event_id": "evt_1"}
    bad = {"type": "response.cancel", "event_id": 12}
    assert validate_client_event(ok, "ga") == []
    assert any(p.path == "$.event_id" for p in validate_client_event(bad, "ga"))
    assert validate_client_event({"type": "response.cancel", "event_id": "evt_2"}, "ga") == []
