"""Findings round-trip through JSON and through the live ``finding`` capture record."""

from __future__ import annotations

from rtscope.analyzers import Finding, Severity, analyze


def test_round_trip_and_record_shape():
    f = Finding("server-error", Severity.ERROR, "c1", 7, 1.5, "boom", "fix it", {"code": "x"})
    rec = f.to_record()
    assert rec["kind"] == "finding" and rec["severity"] == "error"
    assert Finding.from_dict(rec) == f
    assert f.one_line() == "ERROR server-error [c1#7] boom"


def test_finding_records_in_a_capture_do_not_change_the_analysis(capture):
    records = capture("beta-never-done")
    found = analyze(records)
    with_live = [*records[:-1], *(f.to_record() for f in found), records[-1]]
    assert analyze(with_live) == found
