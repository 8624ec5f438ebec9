"""The simulator's session state machine, driven with a virtual clock.

Expected event orders and error codes come from the protocol reference
(the protocol reference (realtime-protocol.md) §2.1, §3.1-§3.5), not from the simulator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtscope.replay.sim import SimOptions

from .helpers import Driver, error_codes

FIXTURES = Path(__file__).parents[2] / "fixtures" / "replay"


def seed000() -> list[dict]:
    lines = (FIXTURES / "seed000_events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


# -- session start ----------------------------------------------------------------------------


def test_ga_session_starts_with_session_created_only():
    d = Driver("ga")
    assert d.types() == ["session.created"]
    session = d.of("session.created")[0]["session"]
    assert session["type"] == "realtime"
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}


def test_beta_session_created_then_conversation_created_with_the_seed_000_shape():
    d = Driver("beta")
    assert d.types() == ["session.created", "conversation.created"]
    ours = d.of("session.created")[0]["session"]
    theirs = seed000()[0]["session"]  # a real beta session.created (seed 000)
    assert set(ours) == set(theirs)
    assert set(ours["turn_detection"]) == set(theirs["turn_detection"])


# -- session.update ---------------------------------------------------------------------------


def test_session_update_is_acked_with_the_full_effective_config():
    d = Driver("ga")
    d.take()
    d.send({"type": "session.update", "session": {"type": "realtime", "instructions": "Hi"}}, 0.1)
    (updated,) = d.of("session.updated")
    assert updated["session"]["instructions"] == "Hi"
    assert updated["session"]["audio"]["output"]["voice"] == "alloy"  # untouched fields kept


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": "x"}, "missing_required_parameter", "session.type"),
        ({"type": "realtime", "modalities": ["text"]}, "unknown_parameter", "session.modalities"),
        ({"type": "realtime", "voice": "ash"}, "unknown_parameter", "session.voice"),
        (
            {"type": "realtime", "output_modalities": ["text", "audio"]},
            "invalid_value",
            "session.output_modalities",
        ),
        (
            {"type": "realtime", "audio": {"input": {"format": "pcm16"}}},
            "invalid_type",
            "session.audio.input.format",
        ),
        (
            {
                "type": "realtime",
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
            },
            "invalid_value",
            "session.audio.input.format.rate",
        ),
    ],
)
def test_ga_refuses_invalid_updates_whole(session, code, param):
    d = Driver("ga")
    d.take()
    d.send(
        {
            "type": "session.update",
            "event_id": "evt_1",
            "session": {**session, "instructions": "must not apply"},
        },
        0.1,
    )
    (error,) = d.of("error")
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)
    assert error["error"]["event_id"] == "evt_1"
    assert d.of("session.updated") == []
    assert d.sim.session["instructions"] != "must not apply"


@pytest.mark.parametrize(
    ("session", "code"),
    [
        ({"modalities": ["audio"]}, "invalid_value"),
        ({"output_modalities": ["text"]}, "unknown_parameter"),
        ({"temperature": 0.1}, "decimal_below_min_value"),
        ({"input_audio_format": "mp3"}, "invalid_value"),
    ],
)
def test_beta_refuses_invalid_updates(session, code):
    d = Driver("beta")
    d.take()
    d.send({"type": "session.update", "session": session}, 0.1)
    assert error_codes(d.take()) == [code]


def test_voice_cannot_change_once_assistant_audio_exists():
    d = Driver("ga")
    d.send({"type": "response.create"}, 2.0)
    d.take()
    d.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"output": {"voice": "ash"}}},
        },
        0.1,
    )
    assert error_codes(d.take()) == ["cannot_update_voice"]


# -- items ------------------------------------------------------------------------------------


def user_text(text: str = "Hello") -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_item_create_ack_is_added_then_done_in_ga_and_created_in_beta():
    ga, beta = Driver("ga"), Driver("beta")
    for d in (ga, beta):
        d.take()
        d.send({"type": "conversation.item.create", "item": user_text()}, 0.1)
    assert ga.types() == ["conversation.item.added", "conversation.item.done"]
    assert beta.types() == ["conversation.item.created"]
    assert beta.of("conversation.item.created")[0]["previous_item_id"] is None


@pytest.mark.parametrize(
    ("role", "ctype", "param"),
    [
        ("user", "text", "item.content[0].type"),
        ("system", "output_text", "item.content[0].type"),
        ("assistant", "text", "item.content[0].type"),
    ],
)
def test_ga_refuses_content_types_that_do_not_fit_the_role(role, ctype, param):
    d = Driver("ga")
    d.take()
    item = {"type": "message", "role": role, "content": [{"type": ctype, "text": "x"}]}
    d.send({"type": "conversation.item.create", "item": item}, 0.1)
    (error,) = d.of("error")
    assert error["error"]["code"] == "invalid_value"
    assert error["error"]["param"] == param
    assert d.sim.items == []


def test_function_call_output_needs_a_known_call_id():
    d = Driver("ga")
    d.take()
    d.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_nope", "output": "{}"},
        },
        0.1,
    )
    d.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "output": "{}"},
        },
        0.1,
    )
    assert error_codes(d.take()) == ["invalid_tool_call_id", "missing_required_parameter"]


def test_retrieve_and_delete_ack_and_report_unknown_items():
    d = Driver("ga")
    d.send({"type": "conversation.item.create", "item": {**user_text(), "id": "item_mine"}}, 0.1)
    d.take()
    d.send({"type": "conversation.item.retrieve", "item_id": "item_mine"}, 0.1)
    d.send({"type": "conversation.item.delete", "item_id": "item_mine"}, 0.1)
    d.send({"type": "conversation.item.delete", "item_id": "item_mine"}, 0.1)
    events = d.take()
    assert [e["type"] for e in events] == [
        "conversation.item.retrieved",
        "conversation.item.deleted",
        "error",
    ]
    assert events[0]["item"]["id"] == "item_mine"


def test_truncate_only_model_audio_and_clamps_past_the_generated_audio():
    d = Driver("ga")
    d.send({"type": "response.create"}, 2.0)
    item_id = d.of("response.done")[0]["response"]["output"][0]["id"]
    audio_ms = sum(
        len(__import__("base64").b64decode(e["delta"])) // 48
        for e in d.of("response.output_audio.delta")
    )
    d.send({"type": "conversation.item.create", "item": {**user_text(), "id": "item_u"}}, 0.1)
    d.take()
    d.send(
        {
            "type": "conversation.item.truncate",
            "item_id": "item_u",
            "content_index": 0,
            "audio_end_ms": 10,
        },
        0.1,
    )
    assert error_codes(d.take()) == ["unsupported_content_type"]
    d.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": audio_ms + 500,
        },
        0.1,
    )
    events = d.take()
    assert [e["type"] for e in events] == ["error", "conversation.item.truncated"]
    assert f"Audio content of {audio_ms}ms is already shorter than" in events[0]["error"]["message"]
    assert events[1]["audio_end_ms"] == audio_ms


# -- audio input and VAD -------------------------------------------------------------------


def test_commit_of_less_than_100ms_is_an_error():
    d = Driver("ga")
    d.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        },
        0.1,
    )
    d.take()
    d.send({"type": "input_audio_buffer.append", "audio": "AAAA"}, 0.1)
    d.send({"type": "input_audio_buffer.commit"}, 0.1)
    events = d.take()
    assert error_codes(events) == ["input_audio_buffer_commit_empty"]
    assert "but buffer only has 0.06ms of audio" in events[0]["error"]["message"]


def test_append_gets_no_ack_and_bad_base64_is_invalid_value():
    d = Driver("ga")
    d.take()
    d.send({"type": "input_audio_buffer.append", "audio": "AAAA"}, 0.1)
    assert d.take() == []
    d.send({"type": "input_audio_buffer.append", "audio": "not base64!"}, 0.1)
    assert error_codes(d.take()) == ["invalid_value"]


def test_manual_commit_and_clear_are_acked_without_a_response():
    d = Driver("ga")
    d.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        },
        0.1,
    )
    d.take()
    d.send({"type": "input_audio_buffer.append", "audio": "AAAA" * 1600}, 0.1)  # 100 ms
    d.send({"type": "input_audio_buffer.commit"}, 0.1)
    d.send({"type": "input_audio_buffer.clear"}, 0.1)
    assert d.types() == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "input_audio_buffer.cleared",
    ]


def test_server_vad_turn_follows_the_documented_order():
    d = Driver("ga")
    d.take()
    d.speak()
    d.advance(3.0)
    types = [t for t in d.types() if not t.endswith(".delta")]
    assert types[:6] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    assert types[-1] == "response.done"
    started = d.of("input_audio_buffer.speech_started")[0]
    stopped = d.of("input_audio_buffer.speech_stopped")[0]
    assert started["item_id"] == stopped["item_id"]
    # speech for 600 ms, then 200 ms (the default silence_duration_ms) of silence.
    assert stopped["audio_end_ms"] == 800


def test_silence_alone_does_not_start_speech():
    d = Driver("ga")
    d.take()
    d.speak(speech_ms=0, silence_ms=1000)
    d.advance(1.0)
    assert d.take() == []


# -- responses --------------------------------------------------------------------------------


def test_text_response_in_ga_uses_output_text_events():
    d = Driver("ga")
    d.send({"type": "response.create", "response": {"output_modalities": ["text"]}}, 2.0)
    types = [t for t in d.types() if t != "response.output_text.delta"]
    assert types == [
        "session.created",
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    done = d.of("response.done")[0]["response"]
    assert done["output"][0]["content"][0]["type"] == "output_text"
    assert done["usage"]["output_token_details"]["audio_tokens"] == 0


def test_audio_response_streams_a_tone_at_the_output_byte_rate():
    d = Driver("beta")
    d.send({"type": "response.create"}, 2.0)
    deltas = d.of("response.audio.delta")
    assert deltas and len(deltas) == len(d.of("response.audio_transcript.delta"))
    import base64

    assert all(len(base64.b64decode(e["delta"])) == 200 * 48 for e in deltas)  # 200 ms pcm16
    done = d.of("response.done")[0]["response"]
    assert done["output"][0]["content"][0]["type"] == "audio"
    assert done["usage"]["output_token_details"]["audio_tokens"] > 0


def test_second_response_create_while_active_is_refused():
    d = Driver("ga")
    d.send({"type": "response.create"}, 0.05)
    d.send({"type": "response.create", "event_id": "evt_2"}, 0.01)
    (error,) = d.of("error")
    assert error["error"]["code"] == "conversation_already_has_active_response"
    assert error["error"]["event_id"] == "evt_2"
    d.advance(2.0)
    assert len(d.of("response.created")) == len(d.of("response.done")) == 1


def test_cancel_ends_the_response_cancelled_and_cancel_without_one_is_an_error():
    d = Driver("ga")
    d.send({"type": "response.create"}, 0.1)
    d.send({"type": "response.cancel"}, 2.0)
    done = d.of("response.done")
    assert len(done) == 1
    assert done[0]["response"]["status"] == "cancelled"
    assert done[0]["response"]["status_details"]["reason"] == "client_cancelled"
    d.take()
    d.send({"type": "response.cancel"}, 0.1)
    assert error_codes(d.take()) == ["response_cancel_not_active"]


def test_speech_during_a_response_interrupts_it_with_turn_detected():
    d = Driver("ga")
    d.send({"type": "response.create"}, 0.1)
    d.speak(speech_ms=300, silence_ms=0)
    d.advance(1.0)
    done = d.of("response.done")
    assert done[0]["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def test_tool_call_when_tools_are_configured_and_the_user_asks():
    d = Driver("ga")
    d.send({"type": "session.update", "session": {"type": "realtime", "tools": [WEATHER_TOOL]}})
    d.send({"type": "conversation.item.create", "item": user_text("get weather in Paris")})
    d.send({"type": "response.create"}, 1.0)
    args_done = d.of("response.function_call_arguments.done")[0]
    assert args_done["name"] == "get_weather"
    assert json.loads(args_done["arguments"]) == {"city": "example"}
    call_id = args_done["call_id"]
    d.take()
    d.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": call_id, "output": '{"temp": 21}'},
        },
        0.1,
    )
    d.send({"type": "response.create", "response": {"output_modalities": ["text"]}}, 2.0)
    assert error_codes(d.out and [e for _, e in d.out]) == []
    text = d.of("response.output_text.done")[0]["text"]
    assert '{"temp": 21}' in text


def test_garbage_gets_invalid_event_errors_and_the_session_goes_on():
    d = Driver("ga")
    d.take()
    d.send("not json", 0.1)
    d.send(b"\x00\x01", 0.1)
    d.send({"no": "type"}, 0.1)
    d.send({"type": "input_audio_buffer.flush"}, 0.1)
    assert error_codes(d.take()) == ["invalid_event"] * 4
    d.send({"type": "response.create"}, 2.0)
    assert d.of("response.done")


def test_rate_limits_updated_follows_response_created():
    d = Driver("beta")
    d.send({"type": "response.create"}, 2.0)
    types = d.types()
    assert types.index("rate_limits.updated") == types.index("response.created") + 1
    names = [r["name"] for r in d.of("rate_limits.updated")[0]["rate_limits"]]
    assert names == ["requests", "tokens"]


def test_session_ends_at_the_maximum_duration_with_session_expired_and_1001():
    d = Driver("ga", max_session_s=120.0)
    d.advance(119.9)
    assert d.closes == []
    d.advance(0.2)
    assert error_codes(d.take())[-1] == "session_expired"
    assert d.closes[0].code == 1001
    assert "maximum duration of 2 minutes" in d.closes[0].reason


# -- scenarios --------------------------------------------------------------------------------


def test_modality_race_response_inside_the_window_is_text_only_but_echoes_audio():
    d = Driver("beta", scenario="modality-race", race_delay_ms=300)
    d.send({"type": "session.update", "session": {"modalities": ["text"]}}, 0.5)
    d.take()
    d.send({"type": "session.update", "session": {"modalities": ["text", "audio"]}})
    d.speak()
    d.advance(3.0)
    created = d.of("response.created")[0]["response"]
    done = d.of("response.done")[0]["response"]
    assert sorted(created["modalities"]) == ["audio", "text"]
    assert [c["type"] for c in done["output"][0]["content"]] == ["text"]
    assert done["usage"]["output_token_details"]["audio_tokens"] == 0
    # the session.updated comes only when the change applies, after the response started.
    types = d.types()
    assert types.index("response.created") < types.index("session.updated")


def test_modality_race_response_after_session_updated_has_audio():
    d = Driver("beta", scenario="modality-race", race_delay_ms=300)
    d.send({"type": "session.update", "session": {"modalities": ["text"]}}, 0.5)
    d.send({"type": "session.update", "session": {"modalities": ["text", "audio"]}}, 0.4)
    assert d.of("session.updated")[-1]["session"]["modalities"] == ["text", "audio"]
    d.speak()
    d.advance(3.0)
    done = d.of("response.done")[0]["response"]
    assert [c["type"] for c in done["output"][0]["content"]] == ["audio"]


def test_modality_race_explicit_response_modalities_are_not_delayed():
    d = Driver("beta", scenario="modality-race")
    d.send({"type": "session.update", "session": {"modalities": ["text"]}}, 0.5)
    d.send({"type": "session.update", "session": {"modalities": ["text", "audio"]}})
    d.send({"type": "response.create", "response": {"modalities": ["audio", "text"]}}, 3.0)
    done = d.of("response.done")[0]["response"]
    assert [c["type"] for c in done["output"][0]["content"]] == ["audio"]


def test_stalled_response_sends_created_and_rate_limits_then_nothing():
    d = Driver("beta", scenario="stalled-response")
    d.take()
    d.send({"type": "conversation.item.create", "item": user_text()})
    d.send({"type": "response.create"}, 30.0)
    assert d.types() == ["conversation.item.created", "response.created", "rate_limits.updated"]
    d.send({"type": "response.create"}, 0.1)
    assert error_codes(d.take()) == ["conversation_already_has_active_response"]


def test_error_storm_bursts_server_errors_and_fails_the_response():
    d = Driver("ga", scenario="error-storm", error_burst=4)
    d.send({"type": "response.create"}, 2.0)
    errors = d.of("error")
    assert [e["error"]["type"] for e in errors] == ["server_error"] * 4
    done = d.of("response.done")[0]["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["type"] == "server_error"


def test_session_expiry_scenario_closes_early():
    d = Driver("ga", scenario="session-expiry", expiry_s=2.0)
    d.advance(2.5)
    assert error_codes(d.take()) == ["session_expired"]
    assert d.closes[0].code == 1001


def test_abnormal_close_drops_the_connection_after_the_first_delta():
    d = Driver("ga", scenario="abnormal-close")
    d.send({"type": "response.create"}, 2.0)
    assert d.closes and d.closes[0].code is None
    assert d.types()[-1].endswith(".delta")
    assert d.of("response.done") == []


def test_rate_limited_scenario_fails_responses_with_zero_tokens_left():
    d = Driver("ga", scenario="rate-limited")
    d.send({"type": "response.create"}, 2.0)
    assert d.of("rate_limits.updated")[0]["rate_limits"][0]["remaining"] == 0
    done = d.of("response.done")[0]["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["code"] == "rate_limit_exceeded"


def test_slow_first_audio_delays_the_first_delta():
    d = Driver("ga", scenario="slow-first-audio", first_audio_delay_ms=3000)
    d.send({"type": "response.create"}, 10.0)
    created_at = next(t for t, e in d.out if e["type"] == "response.created")
    first_delta = next(t for t, e in d.out if e["type"].endswith(".delta"))
    assert first_delta - created_at >= 3.0


def test_unknown_scenario_is_refused():
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        SimOptions(scenario="nope")


def test_expires_at_is_wall_clock_time_plus_the_maximum_duration():
    from rtscope.replay.sim import Simulator

    sim = Simulator("ga", SimOptions(max_session_s=600), now=5.0, epoch=1_800_000_000.0)
    (created,) = sim.due(5.0)
    assert created.event["session"]["expires_at"] == 1_800_000_600
