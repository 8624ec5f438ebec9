"""rtscope.report.timeline: rows, delta-run collapsing, filters and inline findings."""

from __future__ import annotations

import base64
import json
from typing import Any

from rtscope.analyzers.findings import Finding, Severity
from rtscope.capture.codec import close_record, message_record, open_record
from rtscope.report.timeline import Row, timeline

T0 = 1_700_000_000.0


class Capture:
    """Records of one connection, built with the real capture codec."""

    def __init__(self, conn: str = "1") -> None:
        self.conn = conn
        self.records: list[dict[str, Any]] = [
            open_record(conn, T0, "wss://example.test/v1/realtime", {}, {}, 101)
        ]

    def add(self, t: float, frm: str, event: dict[str, Any]) -> None:
        seq = sum(1 for r in self.records if r["kind"] == "msg")
        payload = json.dumps(event).encode()
        rec = message_record(self.conn, seq, T0 + t, frm == "C", payload, True)
        # The codec embeds the payload as an orjson Fragment; a capture file holds plain JSON.
        rec["event"] = event
        self.records.append(rec)


def audio(ms: int, bytes_per_ms: int = 48) -> str:
    return base64.b64encode(b"\x00" * (ms * bytes_per_ms)).decode()


def msg_rows(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.kind == "msg"]


def test_interleaved_audio_and_transcript_deltas_collapse_into_one_row_per_type() -> None:
    cap = Capture()
    cap.add(1.0, "S", {"type": "response.created", "response": {"id": "r"}})
    for i in range(41):
        cap.add(
            1.1 + i * 0.025, "S", {"type": "response.output_audio_transcript.delta", "delta": "w "}
        )
        cap.add(1.1 + i * 0.025, "S", {"type": "response.output_audio.delta", "delta": audio(50)})
    cap.add(2.2, "S", {"type": "response.done", "response": {"status": "completed"}})
    rows = msg_rows(list(timeline(cap.records)))
    assert [(r.type, r.count) for r in rows] == [
        ("response.created", 1),
        ("response.output_audio_transcript.delta", 41),
        ("response.output_audio.delta", 41),
        ("response.done", 1),
    ]
    audio_row = rows[2]
    assert audio_row.summary == "2.0 s audio  in 1.0 s"  # 41 × 50 ms; 40 × 25 ms apart
    assert audio_row.t is not None and abs(audio_row.t - 1.1) < 1e-6


def test_no_collapse_gives_one_row_per_delta() -> None:
    cap = Capture()
    for i in range(3):
        cap.add(0.1 * i, "S", {"type": "response.output_text.delta", "delta": f"w{i}"})
    rows = msg_rows(list(timeline(cap.records, collapse=False)))
    assert [r.summary for r in rows] == ['"w0"', '"w1"', '"w2"']


def test_a_non_delta_event_ends_a_run() -> None:
    cap = Capture()
    cap.add(0.0, "C", {"type": "input_audio_buffer.append", "audio": audio(100)})
    cap.add(0.1, "C", {"type": "input_audio_buffer.append", "audio": audio(100)})
    cap.add(0.2, "S", {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0})
    cap.add(0.3, "C", {"type": "input_audio_buffer.append", "audio": audio(100)})
    rows = msg_rows(list(timeline(cap.records)))
    assert [(r.type, r.count, r.direction) for r in rows] == [
        ("input_audio_buffer.append", 2, "client"),
        ("input_audio_buffer.speech_started", 1, "server"),
        ("input_audio_buffer.append", 1, "client"),
    ]
    assert rows[0].summary.startswith("200 ms audio")


def test_audio_duration_follows_the_session_audio_format() -> None:
    cap = Capture()
    cap.add(0.0, "S", {"type": "session.created", "session": {"input_audio_format": "g711_ulaw"}})
    cap.add(0.1, "C", {"type": "input_audio_buffer.append", "audio": audio(0) + audio(10, 80)})
    rows = msg_rows(list(timeline(cap.records)))
    assert rows[1].summary == "100 ms audio"  # 800 bytes of G.711 at 8 bytes/ms


def test_session_updated_says_what_changed() -> None:
    cap = Capture()
    cap.add(0.0, "S", {"type": "session.created", "session": {"modalities": ["text"]}})
    cap.add(0.5, "S", {"type": "session.updated", "session": {"modalities": ["text", "audio"]}})
    cap.add(0.6, "S", {"type": "session.updated", "session": {"modalities": ["text", "audio"]}})
    rows = msg_rows(list(timeline(cap.records)))
    assert rows[1].summary == "changed modalities: [text] → [text,audio]"
    assert rows[2].summary == "no change"


def test_findings_attach_to_their_message_and_hidden_ones_get_their_own_row() -> None:
    cap = Capture()
    cap.add(0.0, "S", {"type": "session.created", "session": {}})
    cap.add(1.0, "S", {"type": "response.done", "response": {"status": "failed"}})
    on_done = Finding("F-25", Severity.ERROR, "1", 1, T0 + 1, "response failed", "retry")
    on_session = Finding("F-01", Severity.INFO, "1", 0, T0, "note")
    whole = Finding("F-37", Severity.WARNING, "1", None, None, "closed abnormally")
    rows = list(timeline(cap.records, [on_done, on_session, whole], types=["response.*"]))
    done = next(r for r in rows if r.type == "response.done")
    assert done.findings == [on_done]
    loose = [r.findings[0] for r in rows if r.kind == "finding"]
    assert on_session in loose  # its message (session.created) is filtered out by --types
    assert whole in loose
    assert not any(r.type == "session.created" for r in rows)


def test_conn_filter_keeps_one_connection_and_times_are_relative_to_its_open() -> None:
    a, b = Capture("a"), Capture("b")
    a.add(1.0, "S", {"type": "session.created", "session": {}})
    b.records[0]["t"] = T0 + 10
    b.add(12.5, "S", {"type": "error", "error": {"code": "x", "message": "y"}})
    rows = list(timeline(a.records + b.records, conn="b"))
    assert {r.conn for r in rows} == {"b"}
    err = next(r for r in rows if r.type == "error")
    assert err.t is not None and abs(err.t - 2.5) < 1e-6


def test_open_close_and_non_json_messages_have_rows() -> None:
    cap = Capture()
    cap.records.append(message_record("1", 0, T0 + 1, True, b"ping", True))
    cap.records.append(message_record("1", 1, T0 + 2, False, b"\x00\x01", False))
    cap.records.append(close_record("1", T0 + 3, 1006, "", by=None))
    rows = list(timeline(cap.records))
    assert [(r.kind, r.type) for r in rows] == [
        ("open", "open"),
        ("msg", "(text)"),
        ("msg", "(binary)"),
        ("close", "close"),
    ]
    assert rows[1].summary == '"ping"'
    assert rows[2].summary == "2 bytes"
    assert rows[3].summary == "code=1006"


def test_runs_are_kept_per_connection_and_carry_findings_of_their_deltas() -> None:
    a, b = Capture("a"), Capture("b")
    for i in range(4):  # the two connections' deltas interleave in the file
        a.add(0.1 * i, "S", {"type": "response.output_text.delta", "delta": "a"})
        b.add(0.1 * i, "S", {"type": "response.output_text.delta", "delta": "b"})
    merged = [a.records[0], b.records[0]]
    for ra, rb in zip(a.records[1:], b.records[1:], strict=True):
        merged += [ra, rb]
    on_delta = Finding("F-28", Severity.WARNING, "b", 2, None, "delta after done")
    rows = msg_rows(list(timeline(merged, [on_delta])))
    assert [(r.conn, r.count, r.summary) for r in rows] == [
        ("a", 4, '"aaaa"  in 300 ms'),
        ("b", 4, '"bbbb"  in 300 ms'),
    ]
    assert rows[1].findings == [on_delta]
