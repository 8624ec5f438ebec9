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
