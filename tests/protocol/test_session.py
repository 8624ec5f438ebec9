"""The session model over real sequences: seeds and captures recorded from the openai SDK."""

from __future__ import annotations

import base64

from rtscope.protocol.session import Limits, SessionState, Window, b64_len, track

from .long_session import LongSession


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


def feed(s: SessionState, records) -> None:
    for r in records:
        if r["kind"] == "msg":
            s.apply(r)
        elif r["kind"] == "open":
            s.apply_open(r)
        else:
            s.apply_close(r)


def test_a_long_session_retains_a_bounded_model():
    # 21 000 turns (~550 000 messages, about 12 hours of talk): after the windows fill up, the
    # number of entries the model holds stops growing. Samples at the same phase of the turn
    # pattern (errors every 3rd turn, tools every 5th, system items every 7th: 105 turns).
    session = LongSession()
    s = SessionState(session.conn)
    feed(s, session.start())
    samples = []
    for turn in range(21_000):
        feed(s, session.one_turn())
        if (turn + 1) % 2_100 == 0 and turn + 1 >= 4_200:
            samples.append(s.retained())
    assert samples[0] == samples[-1], samples
    assert all(sample == samples[0] for sample in samples)
    total = sum(samples[0].values())
    assert total < 4_000  # entries, whatever the session length
    dropped = s.dropped()
    # each window did fill and drop (the session outgrew all of them)
    for name in ("item_kinds", "responses", "requests", "errors", "config_history", "spans"):
        assert dropped[name] > 1_000, (name, dropped)
    assert s.messages > 500_000


def test_recent_state_is_exact_after_the_windows_dropped_the_old():
    session = LongSession()
    s = SessionState(session.conn)
    feed(s, session.start())
    for _ in range(3_000):
        feed(s, session.one_turn())
    last = session.turn - 1
    # the newest items keep every detail; 100 turns back only what judging a truncate needs
    assert s.items[LongSession.assistant_id(last)].audio_ms == 200
    assert LongSession.user_id(last - 100) not in s.items
    kind = s.item_kind(LongSession.user_id(last - 100))
    assert kind is not None and (kind.type, kind.role, kind.has_audio) == ("message", "user", False)
    kind = s.item_kind(LongSession.assistant_id(last - 100))
    assert kind is not None and (kind.role, kind.audio_ms, kind.has_audio) == (
        "assistant",
        200,
        True,
    )
    assert s.item_kind(LongSession.user_id(5)) is None  # beyond both windows
    # exact facts that do not depend on the windows
    assert s.error_codes == {"code_0", "code_1"}
    assert s.last_create_seq is not None and s.requests[-1].type in (
        "response.create",
        "conversation.item.create",
        "session.update",
    )
    assert list(s.committed_user_items) == []  # every user item got its transcription
    assert s.config["instructions"].startswith(
        f"You are a helpful voice assistant (context {last})"
    )


def test_config_snapshots_share_values_that_did_not_change():
    session = LongSession()
    s = SessionState(session.conn)
    feed(s, session.start())
    feed(s, session.one_turn())
    feed(s, session.one_turn())
    first, second = s.config_history[-2], s.config_history[-1]
    # normalized names: turn_detection is audio.input.turn_detection, sent anew each update
    assert first.config["turn_detection"] is second.config["turn_detection"]
    assert first.config["modalities"] is second.config["modalities"]
    assert list(second.changed) == ["instructions"]  # "(context n)" differs: a new value
    assert second.config["instructions"] is s.config["instructions"]


def test_windows_drop_the_oldest_and_count_them():
    w: Window[int] = Window(maxlen=3)
    for i in range(5):
        w.append(i)
    assert list(w) == [2, 3, 4] and w.dropped == 2
    s = SessionState("c", Limits(responses=2))
    for i, rid in enumerate(["r1", "r2", "r3"]):
        s.apply(
            {
                "kind": "msg",
                "seq": i,
                "t": float(i),
                "from": "server",
                "event": {"type": "response.created", "response": {"id": rid}},
            }
        )
    # none is done: the oldest goes (a response in progress is dropped only when all are)
    assert [r.id for r in s.response_order] == ["r2", "r3"] and s.dropped() == {"responses": 1}
    s.apply(
        {
            "kind": "msg",
            "seq": 3,
            "t": 3.0,
            "from": "server",
            "event": {"type": "response.done", "response": {"id": "r3", "status": "completed"}},
        }
    )
    s.apply(
        {
            "kind": "msg",
            "seq": 4,
            "t": 4.0,
            "from": "server",
            "event": {"type": "response.created", "response": {"id": "r4"}},
        }
    )
    # the finished r3 goes before r2, which is still in progress
    assert [r.id for r in s.response_order] == ["r2", "r4"]
    assert set(s.active) == {"r2", "r4"}
