"""Audio events parsed without their audio: exact, or refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from rtscope.capture.audiospan import (
    KEY_WINDOW,
    PLACEHOLDER,
    b64_decoded_len,
    parse_counting_audio,
)

B64 = base64.b64encode(bytes(range(256)) * 4).decode()  # 1 368 characters, with + and /


def append(**extra: Any) -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "event_id": "event_1", "audio": B64, **extra}


def test_an_append_is_parsed_around_its_audio() -> None:
    data = orjson.dumps(append())
    value, span = parse_counting_audio(data)  # type: ignore[misc]
    assert value == {**append(), "audio": PLACEHOLDER}
    assert span.event is value
    assert data[span.start : span.end] == B64.encode()
    assert b64_decoded_len(data, span.start, span.end) == 1024


def test_an_append_written_by_json_dumps_is_parsed_around_its_audio() -> None:
    # the openai Python SDK sends client events with json.dumps: '"audio": "…"'
    data = json.dumps(append()).encode()
    assert b'"audio": "' in data
    value, span = parse_counting_audio(data)  # type: ignore[misc]
    assert value == {**append(), "audio": PLACEHOLDER}
    assert data[span.start : span.end] == B64.encode()


def test_a_second_audio_key_in_either_spelling_is_refused() -> None:
    head = b'{"type":"input_audio_buffer.append","audio":"' + B64.encode() + b'"'
    assert parse_counting_audio(head + b',"x":{"audio": "' + B64.encode() + b'"}}') is None
    head = b'{"type": "input_audio_buffer.append", "audio": "' + B64.encode() + b'"'
    assert parse_counting_audio(head + b', "x": {"audio":"' + B64.encode() + b'"}}') is None
    assert parse_counting_audio(head + b"}") is not None


def test_an_audio_key_after_the_search_window_is_left_to_the_full_parse() -> None:
    late = append(event_id="e" * KEY_WINDOW)  # a long field before the audio key
    assert parse_counting_audio(orjson.dumps(late)) is None
    early = {"type": "input_audio_buffer.append", "audio": B64, "event_id": "e" * KEY_WINDOW}
    assert parse_counting_audio(orjson.dumps(early)) is not None


def test_an_audio_delta_inside_a_capture_line_is_found_by_its_path() -> None:
    event = {"type": "response.output_audio.delta", "response_id": "resp_1", "delta": B64}
    line = orjson.dumps({"kind": "msg", "conn": "c", "seq": 1, "event": event})
    value, span = parse_counting_audio(line, ("event",))  # type: ignore[misc]
    assert value["event"] == {**event, "delta": PLACEHOLDER}
    assert span.field == "delta"


def test_padding_is_subtracted_from_the_decoded_length() -> None:
    for raw in (bytes(300), bytes(301), bytes(302)):
        text = base64.b64encode(raw)
        data = b'{"type":"input_audio_buffer.append","audio":"' + text + b'"}'
        _, span = parse_counting_audio(data)  # type: ignore[misc]
        assert b64_decoded_len(data, span.start, span.end) == len(raw)


def test_what_the_fast_path_cannot_prove_is_left_to_the_full_parse() -> None:
    refused = {
        "short audio": orjson.dumps({**append(), "audio": "AAAA"}),
        "an escape in the audio": orjson.dumps({**append(), "audio": B64[:500] + "\n" + B64}),
        "base64url (secrets need - or _)": orjson.dumps({**append(), "audio": "-_" + B64}),
        "a space in the audio": orjson.dumps({**append(), "audio": B64 + " x"}),
        "not an audio type": orjson.dumps({"type": "response.text.delta", "delta": B64}),
        "the key twice": orjson.dumps({**append(), "x": {"audio": B64}}),
        "audio nested in an item": orjson.dumps(
            {
                "type": "conversation.item.create",
                "item": {"content": [{"type": "input_audio", "audio": B64}]},
            }
        ),
        "the field its type does not name": orjson.dumps(
            {"type": "input_audio_buffer.append", "delta": B64}
        ),
        "broken JSON": orjson.dumps(append())[:-1],
        "not an object at the path": orjson.dumps({"kind": "msg", "event": [B64]}),
    }
    for why, data in refused.items():
        assert parse_counting_audio(data, ("event",) if b'"kind"' in data else ()) is None, why


def test_a_key_that_ends_with_the_audio_key_is_not_taken_for_it() -> None:
    # '"x\\"audio":"…"' is a key spelled x"audio whose value is the long string; the real
    # "audio" is spelled with a space after the colon, so the fast path cannot see it.
    data = b'{"type":"input_audio_buffer.append","x\\"audio":"' + B64.encode() + b'","audio": ""}'
    assert parse_counting_audio(data) is None
    assert orjson.loads(data)["audio"] == ""


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=20),
    st.just("audio"),
    st.just('"'),
)
extra_fields = st.dictionaries(
    st.sampled_from(["event_id", "item_id", "x", "audio", "delta", 'a"udio', "response_id"]),
    st.one_of(json_scalars, st.dictionaries(st.sampled_from(["audio", "delta"]), json_scalars)),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    etype=st.sampled_from(
        [
            "input_audio_buffer.append",
            "response.output_audio.delta",
            "response.audio.delta",
            "response.text.delta",
        ]
    ),
    field=st.sampled_from(["audio", "delta"]),
    raw=st.binary(min_size=150, max_size=700),
    extra=extra_fields,
    wrap=st.booleans(),
    spaced=st.booleans(),
)
def test_the_fast_path_agrees_with_a_full_parse(
    etype: str, field: str, raw: bytes, extra: dict[str, Any], wrap: bool, spaced: bool
) -> None:
    text = base64.b64encode(raw).decode()
    event = {"type": etype, **extra, field: text}
    value_in = {"kind": "msg", "event": event} if wrap else event
    data = json.dumps(value_in).encode() if spaced else orjson.dumps(value_in)
    got = parse_counting_audio(data, ("event",) if wrap else ())
    if got is None:
        return
    value, span = got
    full = orjson.loads(data)
    full_event = full["event"] if wrap else full
    assert span.event[span.field] == PLACEHOLDER
    span.event[span.field] = full_event[span.field]
    assert value == full
    assert b64_decoded_len(data, span.start, span.end) == len(raw)


def test_audio_with_a_raw_control_character_is_not_taken_as_plain_base64() -> None:
    # Invalid JSON (a raw control character inside a string) that orjson would reject as a whole:
    # the fast path must not accept it, or the recorder would embed it verbatim as a broken line.
    data = b'{"type":"input_audio_buffer.append","audio":"' + B64.encode() + b'\x01AAAA"}'
    assert parse_counting_audio(data) is None
    for bad in (b"\xc3\xa9", b"\x7f", b"!"):
        data = b'{"type":"input_audio_buffer.append","audio":"' + B64.encode() + bad + b'"}'
        assert parse_counting_audio(data) is None, bad


def test_the_recorder_writes_an_invalid_json_audio_event_as_text() -> None:
    from rtscope.capture.codec import dumps, message_record

    data = b'{"type":"input_audio_buffer.append","audio":"' + B64.encode() + b'\x01AAAA"}'
    line = dumps(message_record("c", 1, 1.0, True, data, True))
    record = orjson.loads(line)  # the line is valid JSON
    assert "event" not in record and record["text"] == data.decode()
