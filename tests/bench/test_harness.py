"""The load harness: exact payload sizes, Realtime-shaped events, and each client against a real
server process on 127.0.0.1 (no proxy in between)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import _common as c
import harness
import orjson
import pytest


@pytest.mark.parametrize("size", [200, 4096])
def test_events_have_the_exact_size_and_are_realtime_json(size: int) -> None:
    for make, expected in (
        (harness.client_event, "input_audio_buffer.append" if size > 1024 else None),
        (harness.server_event, "response.output_audio.delta" if size > 1024 else None),
    ):
        payload = make(size, 7)
        assert len(payload) == size
        event = orjson.loads(payload)
        assert isinstance(event["type"], str) and "." in event["type"]
        if expected:
            assert event["type"] == expected


def test_a_size_too_small_for_the_event_is_refused() -> None:
    with pytest.raises(ValueError):
        harness.client_event(40, 0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[c.Running]:
    running = c.start_server(tmp_path)
    yield running
    running.stop()


def url(server: c.Running) -> str:
    return f"ws://127.0.0.1:{server.port}/v1/realtime?model=bench"


def test_client_to_server_counts_every_message_the_sink_got(server: c.Running) -> None:
    res = asyncio.run(harness.client_to_server(url(server), 200, 0.1))
    assert res.messages > harness.WINDOW  # the credit window was crossed and refilled
    assert res.rate > 0


def test_server_to_client_receives_the_whole_burst(server: c.Running) -> None:
    res = asyncio.run(harness.server_to_client(url(server), 4096, 0.1))
    assert res.messages > 0 and res.rate > 0


def test_round_trips_records_one_rtt_per_message(server: c.Running) -> None:
    res = asyncio.run(harness.round_trips(url(server), 200, 200.0, 20))
    assert len(res.rtts) == 20
    assert all(0 < rtt < 5 for rtt in res.rtts)


def test_concurrent_sessions_get_every_echo_back(server: c.Running) -> None:
    res = asyncio.run(harness.concurrent_sessions(url(server), 3, 20.0, 0.5, 4096))
    assert res.sent == 3 * 10
    assert res.received == res.sent


def test_one_connection_load_carries_both_directions(server: c.Running) -> None:
    seen: list[int] = []
    done = asyncio.run(harness.one_connection_load(url(server), 4096, 500, seen.append, 200))
    assert done == 500
    assert seen == [200, 400, 500]


def test_percentile_interpolates_and_median_is_the_middle() -> None:
    values = [float(v) for v in range(1, 101)]
    assert c.percentile(values, 50) == pytest.approx(50.5)
    assert c.percentile(values, 99) == pytest.approx(99.01)
    assert c.percentile([3.0], 99) == 3.0
    assert c.median([5.0, 1.0, 3.0]) == 3.0


def test_the_sink_stream_is_a_session_rtscope_finds_nothing_wrong_with() -> None:
    from rtscope.analyzers.engine import analyze

    opening, done = harness.response_events("resp_X")
    events = [
        ("server", harness.SESSION_CREATED),
        *(("client", harness.client_event(4096, i)) for i in range(3)),
        *(("server", e) for e in opening),
        *(("server", harness.server_event(4096, i, response="resp_X")) for i in range(50)),
        *(("client", harness.client_event(4096, i)) for i in range(3, 20)),
        ("server", done),
    ]
    records: list[dict[str, object]] = [
        {"kind": "open", "conn": "c", "t": 0.0, "url": "ws://h/v1/realtime?model=m", "status": 101}
    ]
    for seq, (frm, payload) in enumerate(events):
        event = orjson.loads(payload)
        records.append(
            {"kind": "msg", "conn": "c", "seq": seq, "t": 0.001 * seq, "from": frm, "event": event}
        )
    records.append({"kind": "close", "conn": "c", "t": 1.0, "code": 1000, "by": "client"})
    assert analyze(records) == []


def test_the_sink_server_greets_with_session_created(server: c.Running) -> None:
    async def first() -> bytes:
        async with harness.connect(url(server) + "&mode=sink", **harness.WS_OPTS) as ws:
            message: bytes = await ws.recv(decode=False)
            return message

    assert orjson.loads(asyncio.run(first()))["type"] == "session.created"
