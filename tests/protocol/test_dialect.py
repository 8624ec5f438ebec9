"""Dialect detection per event (protocol notes §2.2, §2.3, §5.2)."""

import pytest

from rtscope.protocol.dialect import dialect_of, handshake_dialect


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"type": "response.output_audio.delta"}, "ga"),
        ({"type": "response.audio.delta"}, "beta"),
        ({"type": "response.text.done"}, "beta"),
        ({"type": "conversation.item.added"}, "ga"),
        ({"type": "transcription_session.updated"}, "beta"),
        ({"type": "session.update", "session": {"type": "realtime"}}, "ga"),
        ({"type": "session.update", "session": {"modalities": ["text"]}}, "beta"),
        ({"type": "session.created", "session": {"output_modalities": ["audio"]}}, "ga"),
        ({"type": "response.create", "response": {"modalities": ["text"]}}, "beta"),
        (
            {
                "type": "conversation.item.create",
                "item": {"role": "assistant", "content": [{"type": "output_text"}]},
            },
            "ga",
        ),
        (
            {
                "type": "conversation.item.create",
                "item": {"role": "assistant", "content": [{"type": "text"}]},
            },
            "beta",
        ),
        ({"type": "error"}, None),
        ({"type": "input_audio_buffer.append"}, None),
        ({"type": 5}, None),
    ],
)
def test_dialect_of_one_event(event, expected):
    assert dialect_of(event) == expected


def test_handshake_dialect_from_header_or_subprotocol():
    assert handshake_dialect(None) is None
    assert handshake_dialect({"request_headers": {"openai-beta": "realtime=v1"}}) == "beta"
    proto = {"sec-websocket-protocol": "realtime, openai-beta.realtime-v1"}
    assert handshake_dialect({"request_headers": proto}) == "beta"
    assert handshake_dialect({"request_headers": {"host": "x"}}) == "ga"
