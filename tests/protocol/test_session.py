"""The session model over real sequences: seeds and captures recorded from the openai SDK."""

from __future__ import annotations

import base64

from rtscope.protocol.session import SessionState, b64_len, track


def run(records: list[dict], conn: str | None = None) -> SessionState:
    conn = conn or next(r["conn"] for r in records if "conn" in r)
    s = SessionState(conn)
    for r in records:
        if r.get("conn") != conn:
            continue
        if r["kind"] == "msg":
            s.apply(r)
        elif r["kind"] == "open":
            s.apply_open(r)
        elif r["kind"] == "close":
            s.apply_close(r)
    return s


def test_b64_len_counts_decoded_bytes_without_decoding():
    for n in range(0, 10):
        raw = bytes(range(n))
        assert b64_len(base64.b64encode(raw).decode()) == n
    assert b64_len({"bytes": 4800, "sha256": "x"}) == 4800  # --audio drop digest
    assert b64_len(None) == 0


def test_effective_config_is_created_overlaid_by_updated_seed_000(seed):
    s = run(seed("000"))
    first, second = s.config_history
    assert first.type == "session.created" and first.config["modalities"] == ["text"]
    assert second.type == "session.updated" and second.changed["modalities"] == ["audio", "text"]
    assert s.config["turn_detection"]["silence_duration_ms"] == 500
    assert s.config["transcription"] == {"model": "whisper-1", "language": "fr", "prompt": None}


def test_client_requests_are_acknowledged_seed_001(seed):
    s = run(seed("001"))
    kinds = [(r.type, r.ack_seq) for r in s.requests]
    # session.update → session.updated (2), item.create → item.created (4), response.create → 6
    assert kinds == [
        ("session.update", 2),
        ("conversation.item.create", 4),
        ("response.create", 6),
    ]
    assert list(s.pending) == []
    (resp,) = s.response_order
    assert resp.created_seq == 6 and resp.done_seq is None
    assert resp.request is s.requests[2] and resp.requested_modalities == ["text"]
    assert [t for _, t in s.server_tail][-1] == "rate_limits.updated"


def test_response_parts_text_and_usage_seed_002(seed):
    s = run(seed("002"))
    (resp,) = s.response_order
    assert resp.part_types == ["text"] and resp.text_events == 15
    assert resp.audio_tokens == 0 and not resp.produced_audio
    assert resp.modalities == ["audio", "text"]  # from the session: no echo in this log
    assert s.session_created is not None and s.session_created.seq == 1
    (span,) = s.spans
    assert span.audio_start_ms == 640 and span.audio_end_ms == 2208


def test_audio_ms_from_delta_bytes_and_output_format(capture):
    s = run(capture("ga-audio-turn"))
    (resp,) = s.response_order
    # the scripted server sent 6 deltas of 100 ms pcm16 at 24 kHz (4 800 bytes each)
    assert resp.audio_bytes == 6 * 4800 and resp.audio_ms == 600
    assert resp.status == "completed" and resp.produced_audio
    assert s.buffer_bytes == 0 and s.appended_bytes == 3 * 4800  # 300 ms, then committed
    assert s.close is not None and s.close["code"] == 1000
    assert s.dialects.keys() == {("client", "ga"), ("server", "ga")}


def test_dropped_audio_is_counted_from_digests(capture):
    s = run(capture("ga-barge-in-no-truncate"))
    (resp,) = s.response_order
    assert resp.audio_ms == 3000
    (span,) = s.spans
    assert span.interrupted is resp


def test_error_linked_by_event_id(capture):
    s = run(capture("ga-server-error"))
    (err,) = s.errors
    assert err.link == "event_id" and err.request is not None
    assert err.request.type == "conversation.item.retrieve" and err.request.error is err


def test_error_linked_by_code_when_event_id_is_null(capture):
    s = run(capture("ga-collision"))
    (err,) = s.errors
    assert err.event_id is None and err.link == "code"
    assert err.request is not None and err.request.type == "response.create"
    assert err.request is s.requests[-1]  # the second create, not the acknowledged first


def test_error_linked_by_param_to_the_session_update(capture):
    s = run(capture("ga-update-rejected"))
    (err,) = s.errors
    assert err.request is s.updates[0]
    # a refused update never changes the effective config
    assert len(s.config_history) == 1


def test_function_calls_and_outputs(capture):
    s = run(capture("ga-tools-ok"))
    (call,) = s.calls.values()
    assert call.call_id == "call_weather1" and call.name == "get_weather"
    assert call.output is not None and call.followed_seq is not None
    assert call.followed_seq > call.output.seq


def test_lifecycle_violation_recorded_not_raised(capture):
    s = run(capture("ga-lifecycle"))
    # the late delta follows response.done and also its content_part.done
    assert [v.kind for v in s.violations] == ["after-done", "delta-outside-part"]


def test_odd_input_is_recorded_never_raised():
    s = SessionState("x")
    odd = [
        {"kind": "msg", "seq": 0, "from": "server", "event": {"type": "response.done"}},
        {"kind": "msg", "seq": 1, "from": "server", "event": {"type": "error", "error": 5}},
        {"kind": "msg", "seq": 2, "from": "client", "event": {"type": "response.create"}},
        {"kind": "msg", "seq": 3, "from": "server", "text": "not json"},
        {"kind": "msg", "seq": 4, "event": {"type": "response.created", "response": []}},
        {"kind": "msg", "seq": 5, "event": {"no": "type"}},
        {"kind": "msg", "event": {"type": "session.updated", "session": "x"}},
    ]
    for r in odd:
        s.apply(r)
    assert s.non_events == 2 and s.messages == 7


def test_track_gives_one_state_per_connection(capture):
    records = capture("beta-never-done") + capture("ga-audio-turn")
    states = track(records)
    assert set(states) == {"beta-never-done", "ga-audio-turn"}
    assert states["ga-audio-turn"].response_order[0].audio_ms == 600
    assert states["beta-never-done"].response_order[0].done_seq is None
