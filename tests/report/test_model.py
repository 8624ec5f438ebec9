"""rtscope.report.model: response outcomes, speech spans, turn latency, audio clips, links."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from rtscope.analyzers.findings import Finding, Severity
from rtscope.capture.sources import open_source
from rtscope.report.audio import to_wav
from rtscope.report.model import Report, build_report

FIXTURES = Path(__file__).parent / "fixtures"


def build(name: str, findings: list[Finding] | None = None, **kw: float) -> Report:
    reader = open_source(FIXTURES / name)
    return build_report([(reader.name, iter(reader))], findings or [], **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ga() -> Report:
    return build("ga_voice.jsonl")


def test_every_record_of_the_connection_becomes_an_event(ga: Report) -> None:
    records = (FIXTURES / "ga_voice.jsonl").read_bytes().count(b'"kind":"msg"') + 2  # open+close
    assert ga.events_total == ga.events_shown == records
    assert len(ga.conns) == 1 and len(ga.conns[0].events) == records


def test_responses_are_spans_with_their_outcome(ga: Report) -> None:
    # make_fixtures.py: R1 spoken answer, R2 function call, R3 text only, R4 barge-in, R5 failed.
    responses = [s for s in ga.conns[0].spans if s.kind == "response"]
    assert [(s.label.split()[0], s.outcome) for s in responses] == [
        ("resp_R1", "audio"),
        ("resp_R2", "function"),
        ("resp_R3", "text"),
        ("resp_R4", "cancelled"),
        ("resp_R5", "failed"),
    ]
    assert all(s.end is not None and s.end > s.start for s in responses)


def test_user_speech_spans_come_from_vad_events(ga: Report) -> None:
    speech = [s for s in ga.conns[0].spans if s.kind == "speech"]
    assert len(speech) == 4  # three turns and the barge-in
    first = speech[0]
    assert first.start == pytest.approx(0.8) and first.end == pytest.approx(2.45)


def test_turn_latency_is_measured_from_the_trigger(ga: Report) -> None:
    turns = ga.conns[0].turns
    assert [t.trigger for t in turns] == [
        "speech stopped",
        "speech stopped",
        "response.create",
        "speech stopped",
        "response.create",
    ]
    first = turns[0]
    # speech_stopped 2.45 s, response.created 2.80 s, first audio delta 3.125 s, done 3.49 s.
    assert first.to_created_ms == pytest.approx(350, abs=1)
    assert first.to_first_ms == pytest.approx(325, abs=1)
    assert first.first_output == "audio"
    assert first.to_done_ms == pytest.approx(365, abs=1)
    assert turns[2].first_output == "text"
    assert turns[4].to_first_ms is None and turns[4].outcome == "failed"


def test_config_steps_show_what_session_updated_changed(ga: Report) -> None:
    steps = ga.conns[0].config
    assert [s.type for s in steps] == ["session.created", "session.update", "session.updated"]
    changed = {c.path: c.new for c in steps[2].changes}
    assert changed["audio.output.voice"] == "marin"
    assert "expires_at" not in changed


def test_audio_clips_hold_the_input_stream_and_each_assistant_item(ga: Report) -> None:
    clips = ga.conns[0].clips
    assert [c.label.split(",")[0] for c in clips] == [
        "user input audio",
        "assistant audio",
        "assistant audio",
    ]
    user, answer, cut = clips
    assert user.fmt == "pcm16" and user.ms == pytest.approx(2000 + 1700 + 1600)
    assert len(user.data) == int(user.ms * 48)
    assert answer.ms == pytest.approx(700) and cut.ms == pytest.approx(600)
    assert answer.transcript == "Hello! How can I help you today?"
    assert cut.transcript == "Sure, here is a long story"
    with wave.open(io.BytesIO(to_wav(bytes(answer.data), answer.fmt))) as w:
        assert w.getnframes() == 24000 * 700 // 1000


def test_g711_clips_keep_their_format() -> None:
    report = build("beta_g711.jsonl")
    fmts = [(c.label.split(",")[0], c.fmt, round(c.ms)) for c in report.conns[0].clips]
    assert fmts == [("user input audio", "g711_ulaw", 600), ("assistant audio", "g711_alaw", 500)]


def test_audio_budget_is_shared_by_all_clips_in_event_order() -> None:
    report = build("ga_voice.jsonl", max_audio_s=1.0)
    user, answer, cut = report.conns[0].clips
    # The user's first 1.0 s (ten 100 ms appends) comes first and uses the whole budget.
    assert user.truncated and user.kept_ms == pytest.approx(1000)
    assert len(user.data) == 48000
    assert answer.data == b"" and answer.ms == pytest.approx(700) and answer.truncated
    assert cut.data == b""


def test_audio_past_the_budget_is_left_out_of_every_clip() -> None:
    # 2.75 s: the user's first 2.0 s and R1's 0.7 s fit; the next user chunk (0.1 s) does not,
    # and nothing after it is embedded, in any clip.
    report = build("ga_voice.jsonl", max_audio_s=2.75)
    user, answer, cut = report.conns[0].clips
    assert answer.kept_ms == pytest.approx(700) and not answer.truncated
    assert user.kept_ms == pytest.approx(2000) and user.truncated
    assert len(user.data) == 2000 * 48


def test_event_json_hides_base64_audio_behind_its_size(ga: Report) -> None:
    append = next(e for e in ga.conns[0].events if e.type == "input_audio_buffer.append")
    assert '"audio": "[base64 audio, 4800 bytes]"' in append.body


def test_max_events_lists_the_first_events_and_counts_the_rest() -> None:
    report = build("ga_voice.jsonl", max_events=10)
    assert report.events_shown == 10 and report.conns[0].hidden_events == report.events_total - 10
    # Spans and clips are still computed from every event.
    assert sum(1 for s in report.conns[0].spans if s.kind == "response") == 5


def test_findings_link_to_their_event_and_to_related_seqs(ga: Report) -> None:
    finding = Finding(
        "F-25", Severity.ERROR, "1", 140, None, "failed", "retry", {"related_seqs": [3, 999]}
    )
    whole = Finding("F-37", Severity.WARNING, "1", None, None, "conn")
    report = build("ga_voice.jsonl", [finding, whole])
    by_seq = {e.seq: e for e in report.conns[0].events if e.seq is not None}
    assert report.finding_events[0] == [by_seq[140].index, by_seq[3].index]
    assert by_seq[140].findings == [0]
    assert report.finding_events[1] == [report.conns[0].events[0].index]  # connection level


def test_captures_without_times_still_build() -> None:
    report = build("seed000_modality_switch.jsonl")
    conn = report.conns[0]
    assert all(e.t is None for e in conn.events)
    assert [s.outcome for s in conn.spans if s.kind == "response"] == ["text"]
    assert conn.turns == []  # no times, no latency


def test_audio_sent_as_a_conversation_item_becomes_a_clip(tmp_path: Path) -> None:
    import base64

    import orjson

    from rtscope.capture import CaptureWriter, message_record

    pcm = bytes(range(256)) * 9  # 2 304 bytes of pcm16 24 kHz = 48 ms
    item = {
        "id": "item_U1",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "audio": base64.b64encode(pcm).decode()}],
    }
    events = [
        (True, {"type": "conversation.item.create", "item": item}),
        (False, {"type": "conversation.item.added", "item": item}),  # the echo: no second clip
    ]
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path) as writer:
        for seq, (from_client, event) in enumerate(events):
            payload = orjson.dumps(event)
            writer.write(message_record("c1", seq, 1.0 + seq, from_client, payload, True))
    reader = open_source(path)
    report = build_report([(reader.name, iter(reader))], [])  # type: ignore[arg-type]
    (clip,) = report.conns[0].clips
    assert clip.label == "user audio item item_U1"
    assert bytes(clip.data) == pcm and clip.ms == pytest.approx(48)
