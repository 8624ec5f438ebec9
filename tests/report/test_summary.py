"""rtscope.report.summary: what a one-line summary says about each kind of event."""

from __future__ import annotations

import base64

from rtscope.report.summary import audio_bytes, summarize, trim_middle


def test_trim_middle_keeps_start_and_end() -> None:
    assert trim_middle("abcdefghij", 5) == "ab…ij"
    assert trim_middle("short", 10) == "short"
    assert len(trim_middle("x" * 1000, 61)) == 61


def test_audio_bytes_counts_decoded_bytes_and_dropped_digests() -> None:
    for n in (0, 1, 2, 3, 4800):
        assert audio_bytes(base64.b64encode(b"\x01" * n).decode()) == n
    assert audio_bytes({"bytes": 960, "sha256": "ab"}) == 960
    assert audio_bytes(None) is None


def test_failed_response_done_names_status_error_code_and_message() -> None:
    event = {
        "type": "response.done",
        "response": {
            "id": "resp_1",
            "status": "failed",
            "status_details": {
                "type": "failed",
                "error": {"type": "server_error", "code": "server_error", "message": "Boom"},
            },
            "output": [],
            "output_modalities": ["audio"],
        },
    }
    text = summarize(event)
    assert "status=failed" in text
    assert "error=server_error" in text
    assert '"Boom"' in text
    assert "modalities=[audio]" in text
    assert "output=none" in text


def test_cancelled_response_names_the_reason() -> None:
    event = {
        "type": "response.done",
        "response": {"status": "cancelled", "status_details": {"reason": "turn_detected"}},
    }
    assert "reason=turn_detected" in summarize(event)


def test_item_create_shows_role_and_content_types() -> None:
    event = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Hi"}],
        },
    }
    assert summarize(event) == 'message user [input_text] "Hi"'


def test_error_shows_code_message_and_param() -> None:
    event = {
        "type": "error",
        "error": {"code": "invalid_value", "message": "Bad.", "param": "item.content[0].type"},
    }
    assert summarize(event) == 'invalid_value "Bad." param=item.content[0].type'


def test_beta_and_ga_session_events_both_show_modalities_and_format() -> None:
    beta = {
        "type": "session.created",
        "session": {"modalities": ["text"], "input_audio_format": "g711_ulaw"},
    }
    ga = {
        "type": "session.created",
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {"input": {"format": {"type": "audio/pcmu"}}, "output": {"voice": "marin"}},
        },
    }
    assert "modalities=[text]" in summarize(beta) and "in=g711_ulaw" in summarize(beta)
    ga_text = summarize(ga)
    assert (
        "modalities=[audio]" in ga_text and "in=audio/pcmu" in ga_text and "voice=marin" in ga_text
    )


def test_function_arguments_done_shows_name_and_arguments() -> None:
    event = {
        "type": "response.function_call_arguments.done",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
        "call_id": "c1",
    }
    assert summarize(event) == 'get_weather({"city":"Paris"}) call_id=c1'


def test_audio_ms_is_appended_and_unknown_types_give_empty_summary() -> None:
    assert summarize({"type": "input_audio_buffer.append", "audio": ""}, 100.0) == "100 ms audio"
    assert summarize({"type": "something.new", "x": 1}) == ""
