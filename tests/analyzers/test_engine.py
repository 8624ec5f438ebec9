"""One engine, two shells: analyze() equals feeding LiveAnalyzer then finishing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.analyzers import LiveAnalyzer, analyze
from rtscope.analyzers.engine import sort_key
from rtscope.capture.sources import open_source

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
    assert {f.rule for f in analyze(records, select=["server-error"])} == {"server-error"}
    assert {f.rule for f in analyze(records, ignore=["server-error"])} == {"invalid-client-event"}


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
