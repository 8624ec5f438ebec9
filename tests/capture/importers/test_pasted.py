"""Pasted logs: the five seeds and other paste styles, read through open_source.

Expected types, counts, lines and directions below were written by reading each fixture by hand
(not by running the importer): e.g. seed 000 holds 16 pretty-printed objects between prose and
stray ```json fences; seed 002 is a C# client's YAML log with its indentation lost (31 events, one
"Connection established" document without an event); seed 003 holds one Python dict with
None/parentheses/trailing commas, one JSON session.update and one rate_limits.updated, while its
prose mentions event names and {"model": "whisper-1"} objects that are not events.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtscope.capture.importers import PastedSource
from rtscope.capture.importers.pasted import scan_text
from rtscope.capture.sources import open_source
from rtscope.errors import CaptureError

LOGS = Path(__file__).parents[2] / "fixtures" / "logs"
SEEDS = Path(__file__).parents[2] / "fixtures" / "seeds"


def read(name: str) -> tuple[list[dict], PastedSource]:
    source = open_source((SEEDS if name[:3].isdigit() else LOGS) / name)
    assert isinstance(source, PastedSource)
    return list(source), source


def types(records: list[dict]) -> list[str]:
    return [r["event"]["type"] for r in records]


def test_seed_000_pretty_printed_json_between_prose_and_fences() -> None:
    records, source = read("000_modality-switch-text-only.txt")
    assert types(records) == [
        "session.created",
        "conversation.item.created",
        "response.output_item.added",
        "conversation.item.created",
        "response.text.done",
        "session.updated",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.created",
        "response.text.done",
        "response.done",
    ]
    assert [r["line"] for r in records][:3] == [2, 40, 59]  # the lines of their '{'
    assert {r["from"] for r in records} == {"server"}
    assert all(r["t"] is None for r in records)  # the post has no timestamps
    assert [r["seq"] for r in records] == list(range(16))
    assert records[-1]["event"]["response"]["usage"]["output_token_details"]["audio_tokens"] == 0
    assert source.problems == []


def test_seed_001_requests_and_responses_get_their_direction_from_the_type() -> None:
    records, source = read("001_no-response-after-response-create.txt")
    assert [(r["event"]["type"], r["from"]) for r in records] == [
        ("session.created", "server"),
        ("session.update", "client"),
        ("session.updated", "server"),
        ("conversation.item.create", "client"),
        ("conversation.item.created", "server"),
        ("response.create", "client"),
        ("response.created", "server"),
        ("rate_limits.updated", "server"),
    ]
    assert records[5]["event"]["response"] == {"modalities": ["text"]}
    assert source.problems == []


def test_seed_002_yaml_log_without_indentation_is_rebuilt_with_its_times() -> None:
    records, source = read("002_item-before-session-created-yaml-log.txt")
    assert len(records) == 31
    assert types(records)[:3] == [
        "conversation.item.create",
        "session.created",
        "conversation.item.created",
    ]
    assert types(records).count("response.text.delta") == 14
    assert types(records)[-4:] == [
        "response.text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    first = records[0]
    assert first["from"] == "client"
    assert first["event"] == {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "You are a helpful assistant."}],
        },
    }
    # 2024-10-17T11:45:05.1787684+02:00 = 09:45:05.178768 UTC = 1729158305.178768
    assert first["t"] == pytest.approx(1729158305.178768, abs=1e-6)
    session = records[1]["event"]["session"]
    assert session["modalities"] == ["text", "audio"]
    assert session["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
    }
    assert session["input_audio_format"] == "pcm16"  # back at session level, not in turn_detection
    assert session["max_response_output_tokens"] == "inf"
    deltas = [r["event"]["delta"] for r in records if r["event"]["type"] == "response.text.delta"]
    assert "".join(deltas) == "Hey! I'm doing well, thanks for asking. How about you?"
    done = records[-1]["event"]["response"]
    assert done["output"][0]["content"] == [
        {"type": "text", "text": "Hey! I'm doing well, thanks for asking. How about you?"}
    ]
    assert done["usage"]["output_token_details"] == {"text_tokens": 16, "audio_tokens": 0}
    assert records[9]["event"]["rate_limits"][1] == {
        "name": "tokens",
        "limit": 80000,
        "remaining": 75866,
        "reset_seconds": 3.1,
    }
    times = [r["t"] for r in records]
    assert times == sorted(times)
    assert source.problems == []


def test_seed_003_python_dict_with_none_parentheses_and_trailing_commas() -> None:
    records, source = read("003_session-lifecycle-questions.txt")
    assert [(r["line"], r["event"]["type"]) for r in records] == [
        (133, "session.update"),
        (147, "session.update"),
        (170, "rate_limits.updated"),
    ]
    assert records[0]["event"]["session"] == {
        "modalities": ["text"],
        "input_audio_transcription": {"model": "whisper-1"},
        "turn_detection": None,
        "instructions": "something.",
    }
    assert source.problems == []


def test_seed_004_history_items_and_a_trailing_comma() -> None:
    records, source = read("004_text-history-drops-audio.txt")
    assert [(r["line"], r["event"]["type"]) for r in records] == [
        (9, "session.update"),
        (22, "conversation.item.create"),
        (31, "conversation.item.create"),
        (40, "conversation.item.create"),
        (49, "conversation.item.create"),
        (61, "response.create"),
    ]
    assert records[3]["event"]["item"]["content"] == [
        {"type": "text", "input_text": "Hello, can you tell me a joke?"}
    ]
    # line 75's [{"type": "input_text", ...}] is a content part, not an event
    assert all(r["from"] == "client" for r in records)
    assert source.problems == []


def test_python_logging_prefixes_give_time_and_direction_and_a_bad_object_is_reported() -> None:
    records, source = read("python-logging.log")
    assert [(r["event"]["type"], r["from"]) for r in records] == [
        ("session.update", "client"),
        ("session.created", "server"),
        ("session.updated", "server"),
        ("response.create", "client"),
        ("error", "server"),
        ("custom.ping", "client"),  # unknown type: "Sent:" decides
    ]
    # 2025-05-07 13:51:23,815 (no zone: read as UTC)
    assert records[0]["t"] == pytest.approx(1746625883.815)
    assert records[3]["event"]["response"]["instructions"] == 'Say "hi" to the user, it\'s morning'
    assert records[4]["event"]["error"]["event_id"] is None
    assert [(p.line, p.problem.split(":")[0]) for p in source.problems] == [
        (7, "cannot read this event object")
    ]


def test_javascript_console_objects() -> None:
    records, source = read("js-console.log")
    assert [(r["line"], r["event"]["type"], r["from"]) for r in records] == [
        (5, "session.created", "server"),
        (16, "conversation.item.create", "client"),
        (17, "response.done", "server"),
        (28, "response.created", "server"),
    ]
    assert records[0]["event"]["session"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
    }
    assert records[1]["event"]["item"]["content"] == ["[Object]"]
    assert records[2]["event"]["response"]["usage"] is None  # undefined
    assert source.problems == []


def test_json_lines_with_clock_prefixes_arrays_and_wrappers() -> None:
    records, source = read("jsonl-with-noise.md")
    assert [(r["event"]["type"], r["from"], r["t"]) for r in records] == [
        ("input_audio_buffer.commit", "client", pytest.approx(43201.1)),
        ("input_audio_buffer.committed", "server", pytest.approx(43201.35)),
        ("response.cancel", "client", None),
        ("conversation.item.delete", "client", None),
        ("output_audio_buffer.clear", "client", 1746625883.5),
        ("output_audio_buffer.cleared", "server", 1746625884.0),  # 2025-05-07T13:51:24Z
    ]
    assert [r.get("time_of_day", False) for r in records] == [True, True] + [False] * 4
    assert [(p.line, p.problem.split(";")[0]) for p in source.problems] == [
        (6, "an event object is not closed ('{' without its '}')")
    ]


def test_indented_yaml_documents_and_a_broken_one() -> None:
    records, source = read("yaml-indented.yaml")
    assert [(r["event"]["type"], r["from"]) for r in records] == [
        ("session.update", "client"),
        ("session.updated", "server"),
    ]
    assert records[0]["event"]["session"] == {
        "modalities": ["text", "audio"],
        "turn_detection": None,
    }
    assert records[1]["t"] == pytest.approx(1746625884.001)
    assert len(source.problems) == 1
    assert source.problems[0].line == 27
    assert "cannot read this YAML event" in source.problems[0].problem


def test_text_without_any_event_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "post.txt"
    path.write_text('I tried session.update and {"model": "whisper-1"} but nothing works.\n')
    with pytest.raises(CaptureError) as info:
        list(open_source(path))
    assert str(info.value).startswith(f"{path}: no Realtime events found (")
    assert "\n" not in str(info.value)


def test_secrets_in_pasted_events_are_redacted() -> None:
    text = (
        "Sent: {'type': 'session.update', 'session': {'client_secret': "
        "{'value': 'ek_abc123456789'}, 'note': 'key sk-proj-abcdefghijklmnopqrstuv'}}"
    )
    records = list(PastedSource(io.BytesIO(text.encode()), "paste"))
    event = records[0]["event"]
    assert event["session"]["client_secret"]["value"] == "[REDACTED]"
    assert "sk-proj" not in str(event) and "ek_abc" not in str(event)


def test_clock_times_that_cross_midnight_keep_increasing() -> None:
    text = (
        '23:59:59.500 >> {"type": "response.create"}\n'
        '00:00:00.250 << {"type": "response.created"}\n'
    )
    result = scan_text(text)
    assert [e.t for e in result.events] == [pytest.approx(86399.5), pytest.approx(86400.25)]


@pytest.mark.parametrize(
    "text",
    [
        "{" * 5000,
        "}" * 5000 + "{" * 5000,
        "{'type': 'a.b', " * 3000,
        '"' * 10000 + "{",
        "type: response.done\n" + "- x\n" * 2000,
        "---\n" * 3000,
        "[" * 300 + '{"type": "a.b"}' + "]" * 300,
        '{"type": "a.b", "x": ' + "[" * 1000 + "]" * 1000 + "}",
    ],
)
def test_hostile_text_never_raises(text: str) -> None:
    result = scan_text(text)  # must return (quickly) whatever the input
    assert isinstance(result.events, list)


def test_printed_openai_sdk_models() -> None:
    records, source = read("sdk-repr.log")
    assert [(r["line"], r["event"]["type"], r["from"]) for r in records] == [
        (5, "session.created", "server"),
        (6, "response.created", "server"),
        (7, "error", "server"),
    ]
    session = records[0]["event"]["session"]
    assert session["audio"]["input"]["format"] == {"rate": 24000, "type": "audio/pcm"}
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 500
    assert records[2]["event"]["error"]["code"] == "conversation_already_has_active_response"
    assert source.problems == []


TOKENS = list("{}[]()'\":,-\n =>") + ["type", "a.b", "Sent", "Event(", "---", "- ", "  "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=120).map("".join))
def test_scanning_any_text_never_raises(text: str) -> None:
    scan_text(text)


SEED_TEXT = "\n".join(p.read_text() for p in sorted(SEEDS.glob("00*.txt")))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, len(SEED_TEXT)), min_size=2, max_size=8))
def test_cut_and_spliced_seed_text_only_ever_raises_capture_error(cuts: list[int]) -> None:
    cuts = sorted(cuts)
    pieces = [SEED_TEXT[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
    data = "".join(reversed(pieces)).encode()
    try:
        list(PastedSource(io.BytesIO(data), "fuzz"))
    except CaptureError:
        pass


def test_events_inside_a_pasted_code_snippet_are_found() -> None:
    text = (
        "my code:\n"
        "function start() {\n"
        "  ws.send(JSON.stringify({type: 'session.update', session: {voice: 'ash'}}));\n"
        "  ws.send(JSON.stringify({ type: 'response.create' }))\n"
        "}\n"
    )
    result = scan_text(text)
    assert [(e.line, e.event["type"]) for e in result.events] == [
        (3, "session.update"),
        (4, "response.create"),
    ]
    assert result.problems == []


@pytest.mark.parametrize(
    ("name", "times"),
    [
        ("002_item-before-session-created-yaml-log.txt", "epoch"),
        ("004_text-history-drops-audio.txt", "none"),
        ("jsonl-with-noise.md", "mixed"),
    ],
)
def test_header_says_how_to_read_times(name: str, times: str) -> None:
    _, source = read(name)
    assert source.header is not None and source.header["times"] == times


def test_objects_on_one_line_share_its_label_but_not_each_others_words() -> None:
    text = 'Sent: [{"type": "x.response_like"}, {"type": "y.custom"}]\nrecv {"type": "z.custom"}\n'
    result = scan_text(text)
    # "response" inside the first object is not a label for the second one
    assert [(e.event["type"], e.hint) for e in result.events] == [
        ("x.response_like", "client"),
        ("y.custom", "client"),
        ("z.custom", "server"),
    ]


def test_realtime_console_style_labels_and_elided_parts() -> None:
    text = (
        "{\n"
        '  "type": "session.updated",\n'
        '  "session": { ... },\n'
        '  "tools": [...], // cut\n'
        '  "voice": "ash"\n'
        "}\n"
        "↑ client my.custom_event\n"
        '{"type": "my.custom_event"}\n'
    )
    result = scan_text(text)
    assert [(e.event, e.hint) for e in result.events] == [
        ({"type": "session.updated", "session": {}, "tools": ["…"], "voice": "ash"}, None),
        ({"type": "my.custom_event"}, "client"),
    ]
