"""Message classification and encoding (capture format v1)."""

from __future__ import annotations

import base64
import hashlib

import orjson

from rtscope.capture import dumps, message_record, payload_of
from rtscope.capture.codec import close_record, header_record, open_record


def line_of(payload: bytes, *, is_text: bool = True, **kw: object) -> bytes:
    return dumps(message_record("c1", 3, 1763720100.1234567, True, payload, is_text, **kw))  # type: ignore[arg-type]


def test_json_object_text_becomes_event_embedded_byte_for_byte() -> None:
    payload = b'{"type": "session.update",  "session": {"voice": "ash", "x": 1.50}}'
    line = line_of(payload)
    assert payload in line  # the exact bytes sent, spacing and float spelling included
    record = orjson.loads(line)
    assert record["event"]["session"]["voice"] == "ash"
    assert record["size"] == len(payload)
    assert (record["kind"], record["conn"], record["seq"], record["from"]) == (
        "msg",
        "c1",
        3,
        "client",
    )


def test_time_is_kept_to_the_microsecond() -> None:
    assert orjson.loads(line_of(b"{}"))["t"] == 1763720100.123457


def test_pretty_printed_json_is_reserialized_on_one_line() -> None:
    payload = b'{\n  "type": "response.create"\n}'
    line = line_of(payload)
    assert line.count(b"\n") == 1
    assert orjson.loads(line)["event"] == {"type": "response.create"}


def test_text_that_is_not_a_json_object_stays_text() -> None:
    for payload in (b"hello", b"[1, 2]", b"42", b'{"broken": '):
        record = orjson.loads(line_of(payload))
        assert record["text"] == payload.decode()
        assert "event" not in record


def test_binary_message_is_base64() -> None:
    payload = bytes(range(256))
    record = orjson.loads(line_of(payload, is_text=False))
    assert base64.b64decode(record["data_b64"]) == payload
    assert "opcode" not in record


def test_text_frame_with_invalid_utf8_is_kept_exactly_and_marked_as_text() -> None:
    payload = b'{"type":"x","t":"\xff\xfe"}'
    record = orjson.loads(line_of(payload))
    assert base64.b64decode(record["data_b64"]) == payload
    assert record["opcode"] == 1
    assert payload_of(record) == (payload, True)


def test_payload_of_gives_back_what_to_send() -> None:
    assert payload_of(orjson.loads(line_of(b"hi"))) == (b"hi", True)
    assert payload_of(orjson.loads(line_of(b"\x00\x01", is_text=False))) == (b"\x00\x01", False)
    data, is_text = payload_of(orjson.loads(line_of(b'{"type": "a", "b": [1]}')))
    assert is_text and orjson.loads(data) == {"type": "a", "b": [1]}


def test_audio_drop_replaces_audio_by_length_and_digest() -> None:
    pcm = bytes(range(200)) * 24
    b64 = base64.b64encode(pcm).decode()
    digest = {"bytes": len(pcm), "sha256": hashlib.sha256(pcm).hexdigest()}
    append = orjson.dumps({"type": "input_audio_buffer.append", "audio": b64})
    delta = orjson.dumps({"type": "response.output_audio.delta", "delta": b64, "item_id": "i"})
    beta_delta = orjson.dumps({"type": "response.audio.delta", "delta": b64})
    item = orjson.dumps(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": b64}],
            },
        }
    )
    assert orjson.loads(line_of(append, audio="drop"))["event"]["audio"] == digest
    assert orjson.loads(line_of(delta, audio="drop"))["event"]["delta"] == digest
    assert orjson.loads(line_of(beta_delta, audio="drop"))["event"]["delta"] == digest
    content = orjson.loads(line_of(item, audio="drop"))["event"]["item"]["content"]
    assert content == [{"type": "input_audio", "audio": digest}]
    # keep (the default) leaves the samples for replay
    assert orjson.loads(line_of(append))["event"]["audio"] == b64


def test_open_record_lowercases_header_names_and_redacts() -> None:
    record = open_record(
        "c1",
        5.0,
        "wss://res.openai.azure.com/openai/realtime?api-version=2024-10-01-preview&deployment=d&api-key=abc123",
        [("Authorization", "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123"), ("X-Custom", "v")],
        [("Set-Cookie", "__cf_bm=secretcookie")],
        101,
    )
    assert record["request_headers"] == {"authorization": "[REDACTED]", "x-custom": "v"}
    assert record["response_headers"] == {"set-cookie": "[REDACTED]"}
    assert "abc123" not in record["url"]
    assert "api-version=2024-10-01-preview" in record["url"] and "deployment=d" in record["url"]


def test_header_and_close_records_have_the_documented_fields() -> None:
    header = header_record(0.0)
    assert header == {
        "kind": "header",
        "format": "rtscope.capture",
        "version": 1,
        "created": "1970-01-01T00:00:00.000000Z",
        "tool": header["tool"],
    }
    assert header["tool"].startswith("rtscope ")
    assert close_record("c1", 2.0, 1006) == {
        "kind": "close",
        "conn": "c1",
        "t": 2.0,
        "code": 1006,
        "reason": "",
        "by": None,
    }


def read_back_for_analysis(line: bytes) -> dict[str, object]:
    import io

    from rtscope.capture.reader import CaptureReader

    (record,) = list(CaptureReader(io.BytesIO(line), "line", count_audio=True))
    return counted(record)


def counted(record: dict[str, object]) -> dict[str, object]:
    """``record`` with base64 audio as its decoded size, the form analysis reads."""
    from rtscope.protocol.events import AUDIO_FIELDS

    event = record.get("event")
    if not isinstance(event, dict):
        return record
    event = dict(event)
    for name in AUDIO_FIELDS.get(event.get("type", ""), ()):
        if isinstance(event.get(name), str):
            event[name] = {"bytes": len(base64.b64decode(event[name]))}
    return {**record, "event": event}


def test_the_plain_record_is_what_reading_the_written_line_back_for_analysis_gives() -> None:
    from rtscope.capture.codec import message_records

    b64 = base64.b64encode(bytes(range(256)) * 20).decode()
    delta = {"type": "response.output_audio.delta", "response_id": "r", "delta": b64}
    cases = [
        (b'{"type": "session.update",  "session": {"voice": "ash", "x": 1.50}}', True, "keep"),
        (b'{\n  "type": "response.create"\n}', True, "keep"),
        (b'{"type":"x","k":"sk-abcdefghijklmnopqrstuvwxyz0123"}', True, "keep"),
        (orjson.dumps({"type": "input_audio_buffer.append", "audio": b64}), True, "drop"),
        (orjson.dumps({"type": "input_audio_buffer.append", "audio": b64}), True, "keep"),
        (orjson.dumps(delta), True, "keep"),
        (orjson.dumps({**delta, "event_id": "sk-abcdefghijklmnopqrstuvwxyz0123"}), True, "keep"),
        (b"hello sk-abcdefghijklmnopqrstuvwxyz0123", True, "keep"),
        (b"\x00\x01\x02", False, "keep"),
        (b'{"t":"\xff"}', True, "keep"),
    ]
    for payload, is_text, audio in cases:
        written, plain = message_records("c", 1, 2.5, True, payload, is_text, audio=audio)  # type: ignore[arg-type]
        assert read_back_for_analysis(dumps(written)) == counted(plain), payload[:40]
        assert not any(isinstance(v, orjson.Fragment) for v in plain.values())


def test_audio_events_are_embedded_verbatim_and_counted_for_analysis() -> None:
    from rtscope.capture.codec import message_records

    raw = bytes(range(256)) * 20
    payload = orjson.dumps(
        {
            "type": "input_audio_buffer.append",
            "event_id": "e1",
            "audio": base64.b64encode(raw).decode(),
        }
    )
    written, plain = message_records("c", 1, 2.5, True, payload, True)
    assert payload in dumps(written)
    assert plain["event"] == {
        "type": "input_audio_buffer.append",
        "event_id": "e1",
        "audio": {"bytes": len(raw)},
    }


def test_a_secret_beside_audio_is_still_redacted() -> None:
    b64 = base64.b64encode(bytes(range(256)) * 20).decode()
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    payload = orjson.dumps({"type": "input_audio_buffer.append", "event_id": key, "audio": b64})
    line = line_of(payload)
    assert key.encode() not in line
    assert orjson.loads(line)["event"]["audio"] == b64
