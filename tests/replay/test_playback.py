"""The mock server's cursor: which recorded server messages go out, when, and on mismatch."""

from __future__ import annotations

import gc

import orjson
import pytest

from rtscope.replay.playback import CloseAction, Payload, Playback, script_of
from rtscope.replay.recording import load_recording

from .captures import TEXT_SESSION, write_capture


@pytest.fixture
def recording(tmp_path):
    return load_recording(
        write_capture(tmp_path / "c.jsonl", TEXT_SESSION, close=(0.6, 1000, "client"))
    )


def drain(playback: Playback, until: float) -> list[tuple[float, object]]:
    out = []
    while (due := playback.next_due()) is not None and due <= until:
        out += [(due, action) for action in playback.due(due)]
    return out


def types(actions) -> list[str]:
    return [orjson.loads(a.event)["type"] for _, a in actions if isinstance(a, Payload)]


def client(i: int) -> str:
    return orjson.dumps([e for _, side, e in TEXT_SESSION if side == "client"][i]).decode()


def test_server_messages_before_the_first_client_message_go_out_at_once(recording):
    p = Playback(recording, now=100.0)
    assert types(drain(p, 100.0)) == ["session.created"]
    assert p.next_due() is None  # nothing more until the client speaks


def test_each_matching_client_message_releases_its_block_with_recorded_delays(recording):
    p = Playback(recording, now=0.0)
    drain(p, 0.0)
    p.receive(10.0, client(0))
    got = drain(p, 20.0)
    assert types(got) == ["session.updated"]
    assert got[0][0] == pytest.approx(10.05)  # recorded 50 ms after the client message
    p.receive(20.0, client(1))
    p.receive(20.0, client(2))
    got = drain(p, 30.0)
    assert types(got) == [
        "conversation.item.added",
        "response.created",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.done",
    ]
    assert [t for t, _ in got] == sorted(t for t, _ in got)  # recorded order kept


def test_served_events_are_the_recorded_bytes_ids_included(recording):
    p = Playback(recording, now=0.0)
    for i in range(3):
        p.receive(0.0, client(i))
    events = [orjson.loads(a.event) for _, a in drain(p, 5.0) if isinstance(a, Payload)]
    assert events[-1]["response"]["id"] == "resp_R1"


def test_speed_divides_the_delays(recording):
    p = Playback(recording, now=0.0, speed=10.0)
    drain(p, 0.0)
    p.receive(0.0, client(0))
    ((due, _),) = drain(p, 1.0)
    assert due == pytest.approx(0.005)


def test_lenient_mismatch_is_noted_and_ignored(recording):
    p = Playback(recording, now=0.0)
    drain(p, 0.0)
    p.receive(0.0, '{"type":"input_audio_buffer.clear"}')
    assert drain(p, 5.0) == []
    assert p.mismatches[0].expected == "session.update"
    assert p.mismatches[0].received == "input_audio_buffer.clear"
    assert not p.closed


def test_lenient_skip_ahead_releases_the_skipped_blocks(recording):
    p = Playback(recording, now=0.0)
    drain(p, 0.0)
    p.receive(0.0, client(1))  # the client did not send the session.update
    assert types(drain(p, 5.0)) == ["session.updated", "conversation.item.added"]
    assert p.mismatches[0].skipped == 1


def test_strict_mismatch_answers_error_and_closes_naming_expected_received_nearest(recording):
    p = Playback(recording, now=0.0, strict=True)
    drain(p, 0.0)
    p.receive(0.0, client(0))
    p.receive(1.0, '{"type":"response.cancel"}')
    out = drain(p, 5.0)
    error = orjson.loads(out[-2][1].event)
    assert error["error"]["code"] == "rtscope_replay_mismatch"
    assert "expected conversation.item.create(message,user)" in error["error"]["message"]
    assert "received response.cancel" in error["error"]["message"]
    close = out[-1][1]
    assert isinstance(close, CloseAction) and close.code == 1008
    assert close.reason.startswith("expected conversation.item.create(message,user)")
    assert len(close.reason.encode()) <= 123
    assert p.closed


def test_strict_nearest_match_points_at_the_same_type(recording):
    p = Playback(recording, now=0.0, strict=True)
    p.receive(0.0, client(2))  # response.create first
    message = orjson.loads(drain(p, 1.0)[-2][1].event)["error"]["message"]
    assert "nearest recorded match: #3 response.create" in message


def test_recorded_server_close_is_replayed(tmp_path):
    rec = load_recording(
        write_capture(tmp_path / "s.jsonl", TEXT_SESSION[:3], close=(0.2, 1001, "server"))
    )
    p = Playback(rec, now=0.0)
    p.receive(0.0, client(0))
    out = drain(p, 1.0)
    assert isinstance(out[-1][1], CloseAction) and out[-1][1].code == 1001
    assert out[-1][0] == pytest.approx(0.15)


def long_session(turns: int, deltas: int) -> list[tuple[float, str, dict[str, object]]]:
    """session.created, then ``turns`` × (one client append, ``deltas`` server deltas)."""
    out: list[tuple[float, str, dict[str, object]]] = [
        (0.0, "server", {"type": "session.created", "event_id": "e0"})
    ]
    for turn in range(turns):
        t = 1.0 + turn
        out.append((t, "client", {"type": "input_audio_buffer.append", "audio": "AAAA"}))
        out += [
            (t + 0.01 * (k + 1), "server", {"type": "response.output_audio.delta", "delta": "AA"})
            for k in range(deltas)
        ]
    return out


def test_a_connection_costs_its_first_block_not_the_whole_recording(tmp_path):
    # rtscope serve: 50 clients connecting at once to a 5-minute session each copied the whole
    # recording (~17 000 objects) and stalled every client ~0.7 s. Playbacks now share one
    # script per recording; a new connection allocates a handful of objects, not one per message.
    rec = load_recording(write_capture(tmp_path / "long.jsonl", long_session(100, 40)))
    assert len(rec.messages) == 4101
    Playback(rec, now=0.0)  # builds the shared script
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        playbacks = [Playback(rec, now=float(i)) for i in range(10)]
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert grown < 10 * 30, grown  # was > 10 × 4 100
    assert all(p.next_due() == float(i) for i, p in enumerate(playbacks))
    assert script_of(rec) is script_of(rec)


def test_playbacks_of_one_recording_keep_their_own_progress(recording):
    first, second = Playback(recording, now=0.0), Playback(recording, now=0.0)
    drain(first, 0.0), drain(second, 0.0)
    first.receive(1.0, client(0))
    assert types(drain(first, 5.0)) == ["session.updated"]
    assert drain(second, 5.0) == [] and second.cursor == 0
    second.receive(2.0, client(0))
    assert types(drain(second, 5.0)) == ["session.updated"]
    assert first.cursor == second.cursor == 1
