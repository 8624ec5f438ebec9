"""One engine, two shells: analyze() equals feeding LiveAnalyzer then finishing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.analyzers import LiveAnalyzer, analyze
from rtscope.analyzers.engine import sort_key
from rtscope.capture.sources import open_source

from ..protocol.long_session import LongSession

CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"


def load(path: Path) -> list[dict]:
    return list(open_source(path))


def all_capture_records() -> list[dict]:
    records: list[dict] = []
    for path in sorted(CAPTURES.glob("*.jsonl")):
        records += load(path)
    return records


def test_analyze_equals_live_feed_then_finish():
    records = all_capture_records()
    live = LiveAnalyzer()
    out = []
    for r in records:
        out += live.feed(r)
    out += live.finish()
    assert sorted(out, key=sort_key) == analyze(records)


def test_live_reports_certain_findings_before_the_end(capture):
    records = capture("ga-collision")
    live = LiveAnalyzer()
    when = [i for i, r in enumerate(records) if live.feed(r)]
    assert when and when[0] < len(records) - 1  # reported at once, before the close
    assert live.finish() == []  # nothing left for the end


def test_finish_one_connection_keeps_the_others(capture):
    live = LiveAnalyzer()
    for r in capture("beta-never-done") + capture("ga-tool-unanswered"):
        live.feed(r)
    first = live.finish("beta-never-done")
    assert [f.rule for f in first] == ["response-never-done"]
    assert live.state("ga-tool-unanswered") is not None
    assert [f.rule for f in live.finish()] == ["unanswered-function-call"]


def test_select_and_ignore(capture):
    records = capture("ga-invalid-item")
    # with invalid-client-event off, server-error reports the server's refusal itself
    assert {f.rule for f in analyze(records, select=["server-error"])} == {"server-error"}
    assert {f.rule for f in analyze(records)} == {"invalid-client-event"}
    assert analyze(records, ignore=["invalid-client-event"])[0].rule == "server-error"


def test_unknown_rule_names_are_refused():
    with pytest.raises(ValueError, match="no-such-rule"):
        analyze([], select=["no-such-rule"])


def test_findings_are_sorted_by_conn_seq_rule():
    found = analyze(all_capture_records())
    assert found == sorted(found, key=sort_key)


def test_finding_records_are_ignored_by_the_engine(capture):
    records = capture("ga-audio-turn")
    records.insert(3, {"kind": "finding", "rule": "x", "severity": "error", "conn": "0"})
    assert analyze(records) == []


def test_a_crashing_rule_is_reported_and_the_others_still_run(capture, monkeypatch):
    from rtscope.analyzers.rules.connection import RateLimitLow

    def boom(self, s, m):
        raise RuntimeError("boom")

    monkeypatch.setattr(RateLimitLow, "on_message", boom)
    records = capture("ga-rate-limit-low") + capture("beta-never-done")
    found = analyze(records)
    bugs = [f for f in found if f.message.startswith("rtscope bug")]
    assert {(f.rule, f.conn) for f in bugs} == {
        ("rate-limit-low", "ga-rate-limit-low"),
        ("rate-limit-low", "beta-never-done"),
    }
    assert all(f.severity.label == "info" and "RuntimeError: boom" in f.message for f in bugs)
    assert "response-never-done" in {f.rule for f in found}  # the other rules went on
    with pytest.raises(RuntimeError):
        analyze(records, strict=True)


def _rule_state_size(live: LiveAnalyzer, conn: str) -> dict[str, int]:
    """Entries held by each rule's own containers (sets, dicts, lists) for one connection."""
    sizes = {}
    for rule in live._conns[conn].rules:
        held = [len(v) for v in vars(rule).values() if isinstance(v, list | dict | set | tuple)]
        sizes[rule.name] = sum(held)
    return sizes


def test_live_analysis_of_a_long_session_stays_flat_and_still_judges_old_items():
    session = LongSession("long")
    live = LiveAnalyzer(strict=True)
    found = [f for r in session.start() for f in live.feed(r)]
    samples = []
    for turn in range(4_200):
        for r in session.one_turn():
            found += live.feed(r)
        if (turn + 1) % 1_050 == 0 and turn + 1 >= 2_100:
            state = live.state("long")
            assert state is not None
            samples.append((state.retained(), _rule_state_size(live, "long")))
    assert all(sample == samples[0] for sample in samples), samples
    assert {f.rule for f in found} == {"server-error"}  # the session is otherwise clean

    # Truncates of items 100 turns back (~250 items: their details are dropped, their kind kept)
    # are judged as before; an item beyond every window is unknown and not judged.
    last = session.turn - 1
    old_user, old_asst = LongSession.user_id(last - 100), LongSession.assistant_id(last - 100)
    state = live.state("long")
    assert state is not None and old_asst not in state.items and old_user not in state.items
    truncates = [
        session.client(
            "conversation.item.truncate", item_id=old_user, content_index=0, audio_end_ms=0
        ),
        session.client(
            "conversation.item.truncate", item_id=old_asst, content_index=0, audio_end_ms=5000
        ),
        session.client(
            "conversation.item.truncate",
            item_id=LongSession.assistant_id(3),
            content_index=0,
            audio_end_ms=5000,
        ),
    ]
    judged = [f for r in truncates for f in live.feed(r) if f.rule == "truncate-out-of-range"]
    assert [(f.seq, f.details["item_id"]) for f in judged] == [
        (truncates[0]["seq"], old_user),
        (truncates[1]["seq"], old_asst),
    ]
    assert "is a user item, not assistant audio" in judged[0].message
    assert "beyond the 200 ms of audio generated" in judged[1].message


# -- the audio fast path ---------------------------------------------------------------------
FIXTURES = CAPTURES.parent
EVERY_FIXTURE = sorted(
    p
    for pattern in (
        "captures/*.jsonl",
        "seeds/*.txt",
        "har/*.har",
        "har/*.mitm",
        "logs/*",
        "replay/*",
    )
    for p in FIXTURES.glob(pattern)
    if p.suffix != ".md" and p.name != "no-websocket.har"  # an input error, no findings
)


def _dicts(findings: list) -> list[dict]:
    return [f.to_dict() for f in findings]


@pytest.fixture
def fast_counts(monkeypatch):
    """How many events SessionState.apply_counted took (True) and left to apply (False), and
    which types it took."""
    from collections import Counter

    from rtscope.protocol.session import SessionState

    counts: Counter = Counter()
    real = SessionState.apply_counted

    def counting(self, record, event, etype):
        done = real(self, record, event, etype)
        counts[done] += 1
        if done:
            counts[etype] += 1
        return done

    monkeypatch.setattr(SessionState, "apply_counted", counting)
    return counts


@pytest.mark.parametrize("path", EVERY_FIXTURE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_counted_audio_on_the_fast_path_gives_exactly_the_findings_of_the_full_parse(path):
    full = analyze(open_source(path), fast_events=False)
    fast = analyze(open_source(path, count_audio=True))
    assert _dicts(fast) == _dicts(full)


def test_the_fast_path_carries_most_audio_events_of_the_fixtures(fast_counts):
    for path in sorted(CAPTURES.glob("*.jsonl")):
        analyze(open_source(path, count_audio=True))
    # appends and deltas of well-formed sessions are counted without a Msg; the rest (deltas
    # outside a part, after done, of an unknown response, odd shapes, the first of a dialect)
    # take the full path
    assert fast_counts[True] > 10 * fast_counts[False] > 0
    for etype in (
        "input_audio_buffer.append",
        "response.output_audio.delta",
        "response.audio.delta",
        "response.output_audio_transcript.delta",
        "response.audio_transcript.delta",
    ):
        assert fast_counts[etype] > 0, etype


def test_a_rule_that_does_not_opt_in_keeps_audio_on_the_full_path(fast_counts, monkeypatch):
    from rtscope.analyzers.rules.audio import AudioFormatMismatch

    records = load(CAPTURES / "ga-audio-turn.jsonl")
    analyze(records)
    assert fast_counts["input_audio_buffer.append"] > 0
    fast_counts.clear()
    monkeypatch.setattr(AudioFormatMismatch, "fast_events", frozenset())
    assert analyze(records) == analyze(records, fast_events=False)
    # appends reach that rule's on_message, so none was counted on the fast path; deltas were
    assert fast_counts["input_audio_buffer.append"] == 0
    assert fast_counts["response.output_audio.delta"] > 0


def test_an_append_with_an_unknown_field_takes_the_full_path_and_is_reported(capture):
    records = capture("ga-audio-turn")
    for r in records:
        if r.get("event", {}).get("type") == "input_audio_buffer.append":
            r["event"]["extra"] = 1
            break
    rules = {f.rule for f in analyze(records)}
    assert "invalid-client-event" in rules
    assert _dicts(analyze(records)) == _dicts(analyze(records, fast_events=False))


def test_audio_after_response_done_is_still_a_lifecycle_violation(capture):
    records = capture("ga-audio-turn")
    done = next(
        i for i, r in enumerate(records) if r.get("event", {}).get("type") == "response.done"
    )
    delta = next(
        r for r in records if r.get("event", {}).get("type") == "response.output_audio.delta"
    )
    late = {**delta, "seq": 10_000, "t": records[done]["t"] + 0.01}
    records.insert(done + 1, late)
    fast = analyze(records)
    assert "lifecycle-violation" in {f.rule for f in fast}
    assert _dicts(fast) == _dicts(analyze(records, fast_events=False))


def test_a_crashing_counted_hook_is_reported_once_and_the_rules_after_it_still_run(
    capture, monkeypatch
):
    from rtscope.analyzers.rules.extra import RunawayAudio
    from rtscope.analyzers.rules.requests import SentBeforeSessionCreated

    def boom(self, s, seq, t, event, response):
        raise RuntimeError("boom")

    # hooks run in rule-name order: audio-delta-after-done, runaway-audio, sent-before-…
    monkeypatch.setattr(RunawayAudio, "on_counted", boom)
    later: list[int] = []
    monkeypatch.setattr(SentBeforeSessionCreated, "wants_counted", lambda self, s, etype: True)
    monkeypatch.setattr(
        SentBeforeSessionCreated, "on_counted", lambda self, s, seq, *rest: later.append(seq)
    )
    found = analyze(capture("ga-audio-turn"))
    bugs = [f for f in found if f.message.startswith("rtscope bug")]
    assert [(f.rule, f.seq) for f in bugs] == [("runaway-audio", 17)]  # the first audio delta
    assert "RuntimeError: boom" in bugs[0].message
    # the rule after it ran for that delta too, and for every counted event
    assert 17 in later and later == [3, 4, 5, *range(16, 28)]
    with pytest.raises(RuntimeError):
        analyze(capture("ga-audio-turn"), strict=True)


# -- rules with nothing left to do on the fast path (Rule.wants_counted) ---------------------
def test_a_rule_with_nothing_left_to_do_is_asked_once_per_stretch_not_called_per_event(
    capture, monkeypatch
):
    from rtscope.analyzers.rules.requests import SentBeforeSessionCreated

    asked: list[tuple[int, str, bool]] = []
    called: list[int] = []
    wants = SentBeforeSessionCreated.wants_counted

    def asking(self, s, etype):
        answer = wants(self, s, etype)
        asked.append((s.messages, etype, answer))
        return answer

    monkeypatch.setattr(SentBeforeSessionCreated, "wants_counted", asking)
    monkeypatch.setattr(
        SentBeforeSessionCreated, "on_counted", lambda self, s, seq, *rest: called.append(seq)
    )
    records = capture("ga-audio-turn")
    assert analyze(records) == []
    # session.created came first: appends (seq 3-5) and deltas (16-27) are not early; the rule
    # is asked at the first of each type after a full-path record, never called
    assert called == []
    assert asked == [
        (3, "input_audio_buffer.append", False),
        (16, "response.output_audio_transcript.delta", False),
        (17, "response.output_audio.delta", False),
    ]
    # a record on the full path between two deltas: asked again
    asked.clear()
    rate = next(r for r in records if r.get("event", {}).get("type") == "rate_limits.updated")
    i = next(i for i, r in enumerate(records) if r.get("seq") == 20)
    records.insert(i, {**rate, "seq": 1000, "t": records[i]["t"]})
    analyze(records)
    assert [etype for _, etype, _ in asked[-2:]] == [
        "response.output_audio_transcript.delta",
        "response.output_audio.delta",
    ]
    assert len(asked) == 5


def test_appends_before_session_created_still_reach_the_rule_that_reports_them():
    def msg(seq: int, frm: str, event: dict) -> dict:
        return {"kind": "msg", "conn": "early", "seq": seq, "t": 100.0 + seq / 10, "from": frm,
                "event": event}  # fmt: skip

    def append(seq: int) -> dict:
        return msg(seq, "client", {"type": "input_audio_buffer.append", "audio": {"bytes": 4800}})

    created = {"type": "session.created", "event_id": "e1", "session": {"type": "realtime"}}
    records = [
        {"kind": "open", "conn": "early", "t": 100.0, "url": "ws://x/v1/realtime", "status": 101},
        append(0),
        append(1),
        append(2),
        msg(3, "server", created),
        append(4),
        append(5),
    ]
    fast = analyze(records)
    early = [f for f in fast if f.rule == "sent-before-session-created"]
    assert len(early) == 1 and early[0].details["early_seqs"] == [0, 1, 2]
    assert _dicts(fast) == _dicts(analyze(records, fast_events=False))


@pytest.mark.parametrize("path", sorted(CAPTURES.glob("*.jsonl")), ids=lambda p: p.name)
def test_rules_that_stop_wanting_counted_events_change_no_finding(path, monkeypatch):
    from rtscope.analyzers.registry import Rule, all_rules

    counted = analyze(open_source(path, count_audio=True))
    for cls in all_rules():
        if "wants_counted" in vars(cls):
            monkeypatch.setattr(cls, "wants_counted", Rule.wants_counted)  # always asked
    assert _dicts(counted) == _dicts(analyze(open_source(path, count_audio=True)))


def test_a_delta_whose_part_only_looks_like_the_one_before_takes_the_full_path(capture):
    # deltas 16-18 of the same response and part were counted; 19 names output_index 0.0, which
    # equals 0 but is another part key (the full path says the delta is outside a content part)
    records = capture("ga-audio-turn")
    for r in records:
        if r.get("seq") == 19:
            r["event"]["output_index"] = 0.0
    fast = analyze(records)
    assert [(f.rule, f.seq) for f in fast] == [("lifecycle-violation", 19)]
    assert _dicts(fast) == _dicts(analyze(records, fast_events=False))
