"""The skip-audio prefilter codec_cost.py times (redact.event_might_hold_secret) gives
might_hold_secret's answer on the bench's own payloads."""

from __future__ import annotations

import base64

import harness
import orjson
import pytest

from rtscope.capture.redact import event_might_hold_secret, might_hold_secret

B64 = base64.b64encode(bytes(range(256)) * 12).decode()  # standard base64: no '-', '_', ' '


@pytest.mark.parametrize(
    "payload",
    [
        harness.client_event(200, 1),
        harness.client_event(4096, 1),
        harness.server_event(200, 1),
        harness.server_event(4096, 1),
        # a secret before / after the audio value
        orjson.dumps(
            {
                "type": "input_audio_buffer.append",
                "event_id": "sk-proj-ABCDEFGHIJKLMNOPQRST",
                "audio": B64,
            }
        ),
        orjson.dumps(
            {"type": "input_audio_buffer.append", "audio": B64, "note": "Bearer abcdefghijk"}
        ),
        orjson.dumps({"type": "response.output_audio.delta", "delta": B64, "api_key": "x"}),
        # a secret inside the audio string: not base64, so the whole payload is scanned
        orjson.dumps(
            {"type": "input_audio_buffer.append", "audio": B64 + "sk-ABCDEFGHIJKLMNOPQRSTUV"}
        ),
        # the audio key also appears earlier, nested: the bytes at the first key are not the value
        orjson.dumps({"type": "input_audio_buffer.append", "x": {"audio": "secret"}, "audio": B64}),
        # pretty-printed (space after the colon): falls back to the full scan
        orjson.dumps(
            {"type": "input_audio_buffer.append", "audio": B64}, option=orjson.OPT_INDENT_2
        ),
    ],
)
def test_the_skip_audio_prefilter_agrees_with_might_hold_secret(payload: bytes) -> None:
    event = orjson.loads(payload)
    assert event_might_hold_secret(payload, event) == might_hold_secret(payload)


def test_the_cases_above_include_both_answers() -> None:
    secret = orjson.dumps(
        {
            "type": "input_audio_buffer.append",
            "event_id": "sk-proj-ABCDEFGHIJKLMNOPQRST",
            "audio": B64,
        }
    )
    clean = harness.client_event(4096, 1)
    assert event_might_hold_secret(secret, orjson.loads(secret)) is True
    assert event_might_hold_secret(clean, orjson.loads(clean)) is False
