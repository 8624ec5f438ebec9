"""Every way a secret travels in a Realtime session is removed (issue 2, issue 7 matrix)."""

from __future__ import annotations

import orjson
import pytest

from rtscope.capture import dumps, message_record, open_record
from rtscope.capture.redact import pseudonym, redact_event, redact_headers, redact_url

SK = "sk-abcdefghijklmnopqrstuvwxyz0123456789"
SK_PROJ = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-abc"
EK = "ek_68b1c0e0a1b88191a05d23b7a0a7b3c2"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize("token", [SK, SK_PROJ, EK, JWT])
def test_authorization_bearer_of_any_shape_is_redacted(token: str) -> None:
    headers = redact_headers([("Authorization", f"Bearer {token}")])
    assert headers == {"authorization": "[REDACTED]"}


def test_azure_api_key_cookie_and_x_api_key_headers_are_redacted() -> None:
    headers = redact_headers(
        {"api-key": "0123456789abcdef", "Cookie": "a=b", "X-API-Key": "k", "Host": "h"}
    )
    assert headers == {
        "api-key": "[REDACTED]",
        "cookie": "[REDACTED]",
        "x-api-key": "[REDACTED]",
        "host": "h",
    }


def test_subprotocol_key_is_redacted_and_account_ids_pseudonymized() -> None:
    value = f"realtime, openai-insecure-api-key.{EK}, openai-organization.org-123, openai-beta.realtime-v1"
    out = redact_headers({"Sec-WebSocket-Protocol": value})["sec-websocket-protocol"]
    assert EK not in out and "org-123" not in out
    assert out.startswith("realtime, openai-insecure-api-key.[REDACTED], openai-organization.[ID ")
    assert out.endswith(", openai-beta.realtime-v1")


def test_organization_header_is_pseudonymized_stably() -> None:
    a = redact_headers({"OpenAI-Organization": "org-abc"})["openai-organization"]
    assert a == pseudonym("org-abc") != pseudonym("org-abd")
    assert "org-abc" not in a


@pytest.mark.parametrize("key", ["api-key", "api_key", "apiKey", "key", "token", "access_token"])
def test_secret_query_parameters_are_redacted(key: str) -> None:
    url = redact_url(f"wss://h.example/v1/realtime?model=gpt-realtime&{key}=s3cr3tvalue&intent=x")
    assert "s3cr3tvalue" not in url
    assert "model=gpt-realtime" in url and "intent=x" in url


def test_userinfo_in_url_is_redacted() -> None:
    assert "pw" not in redact_url("wss://user:pw@h.example/v1/realtime")


def test_client_secret_value_and_ek_strings_inside_events_are_redacted() -> None:
    event = {
        "type": "session.created",
        "session": {"client_secret": {"value": EK, "expires_at": 1}, "instructions": f"use {SK}"},
    }
    out, changed = redact_event(event)
    assert changed
    text = orjson.dumps(out).decode()
    assert EK not in text and SK not in text
    assert out["session"]["client_secret"] == {"value": "[REDACTED]", "expires_at": 1}


def test_mcp_tool_authorization_and_headers_are_redacted() -> None:
    event = {
        "type": "session.update",
        "session": {
            "tools": [
                {
                    "type": "mcp",
                    "server_url": "https://mcp.example/sse",
                    "authorization": "opaque-token-value",
                    "headers": {"X-Api-Key": "hdr-secret", "Accept": "text/plain"},
                }
            ]
        },
    }
    out, changed = redact_event(event)
    tool = out["session"]["tools"][0]
    assert changed
    assert tool["authorization"] == "[REDACTED]"
    assert tool["headers"] == {"X-Api-Key": "[REDACTED]", "Accept": "text/plain"}


def test_an_event_without_secrets_is_left_alone() -> None:
    event = {"type": "response.create", "response": {"instructions": "say 'secret' aloud"}}
    assert redact_event(event) == (event, False)


@pytest.mark.parametrize("secret", [SK, SK_PROJ, EK])
def test_no_secret_survives_into_a_capture_line(secret: str) -> None:
    lines = [
        dumps(message_record("c", 0, 0.0, True, f'{{"type":"x","k":"{secret}"}}'.encode(), True)),
        dumps(message_record("c", 1, 0.0, True, f"plain {secret}".encode(), True)),
        dumps(message_record("c", 2, 0.0, True, f"bin {secret}".encode(), False)),
        dumps(
            open_record(
                "c",
                0.0,
                f"ws://h/v1/realtime?api_key={secret}",
                {"Authorization": f"Bearer {secret}"},
                {},
                101,
            )
        ),
    ]
    for line in lines:
        assert secret.encode() not in line
        assert secret[:12].encode() not in line


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rtscope.capture.redact import event_might_hold_secret, might_hold_secret  # noqa: E402

B64 = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
    min_size=0,
    max_size=2000,
)
OTHER = st.sampled_from(
    ["", "x", SK, EK, f"Bearer {JWT}", "client_secret", "api-key", "plain words"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            "input_audio_buffer.append",
            "response.output_audio.delta",
            "response.audio.delta",
            "response.done",
        ]
    ),
    B64,
    OTHER,
    st.booleans(),
)
def test_skipping_base64_audio_gives_the_same_answer_as_a_full_scan(
    etype: str, audio: str, other: str, spaced: bool
) -> None:
    field = "audio" if etype == "input_audio_buffer.append" else "delta"
    event = {"type": etype, "event_id": other, field: audio}
    payload = orjson.dumps(event) if not spaced else orjson.dumps(event).replace(b'":"', b'": "')
    assert event_might_hold_secret(payload, orjson.loads(payload)) == might_hold_secret(payload)


def test_a_secret_inside_a_non_base64_audio_field_is_still_found() -> None:
    payload = orjson.dumps({"type": "input_audio_buffer.append", "audio": "A" * 300 + " " + SK})
    assert event_might_hold_secret(payload, orjson.loads(payload))
    assert SK.encode() not in dumps(message_record("c", 0, 0.0, True, payload, True))


def test_the_prefilter_answers_yes_for_every_needle_and_no_for_plain_text() -> None:
    from rtscope.capture.redact import _NEEDLES, might_hold_secret

    for needle in _NEEDLES:
        assert might_hold_secret(b'{"x":"' + needle + b'"}'), needle
    assert not might_hold_secret(b'{"type":"response.create","response":{"modalities":["audio"]}}')
