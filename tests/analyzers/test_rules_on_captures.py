"""Every rule fires on the capture scripted to show it, and stays quiet on the near misses.

The captures were recorded by tests/fixtures/captures/record_fixtures.py: the real openai SDK
client (GA and beta) against a scripted local Realtime server. ``EXPECTED`` there was written
with each scenario's script (what it was built to show), not from the rules' output.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rtscope.analyzers import analyze, registry

CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"

_spec = importlib.util.spec_from_file_location("record_fixtures", CAPTURES / "record_fixtures.py")
assert _spec is not None and _spec.loader is not None
record_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record_fixtures)
EXPECTED: dict[str, set[str]] = record_fixtures.EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_gives_exactly_the_scripted_findings(name, capture):
    found = {f.rule for f in analyze(capture(name))}
    assert found == EXPECTED[name]


def test_every_rule_fires_on_some_capture_or_seed():
    fired = set().union(*EXPECTED.values())
    assert fired == set(registry.rule_names())


def test_every_rule_has_a_near_miss_capture_where_it_stays_quiet():
    # each rule is absent from at least one capture of the same dialect and feature area;
    # the negative controls (empty sets) cover the whole catalog at once
    negatives = [n for n, rules in EXPECTED.items() if not rules]
    assert {"ga-audio-turn", "ga-text-session", "ga-tools-ok", "ga-barge-in-truncated"} <= set(
        negatives
    )


def test_text_only_race_names_the_update_and_the_gap(capture):
    (f,) = analyze(capture("beta-modality-race"))
    assert f.details["cause"] == "modality-switch-race"
    assert f.details["gap_ms"] is not None and 0 <= f.details["gap_ms"] < 1500


def test_interruption_reports_how_far_ahead_the_audio_was(capture):
    (f,) = analyze(capture("ga-barge-in-no-truncate"))
    # 3 000 ms were generated at once; the user spoke ~0.5 s into playback
    assert 2000 < f.details["ahead_ms"] < 2800


def test_session_update_rejected_lists_requested_and_effective(capture):
    (f,) = analyze(capture("ga-update-rejected"), select=["session-update-rejected"])
    assert f.details["requested"] == {"modalities": ["text"], "voice": "ash"}
    assert f.details["effective"] == {"modalities": ["audio"], "voice": "alloy"}
    assert f.details["link"] == "event_id"


def test_invalid_ga_session_update_names_path_and_unknown_fields(capture):
    (f,) = analyze(capture("ga-update-rejected"), select=["invalid-client-event"])
    paths = [p["path"] for p in f.details["problems"]]
    assert paths[0] == "$.session.type"
    assert f.details["dialect"] == "ga"


def test_invalid_ga_item_names_allowed_values(capture):
    (f,) = analyze(capture("ga-invalid-item"), select=["invalid-client-event"])
    problem = f.details["problems"][0]
    assert problem["path"] == "$.item.content[0].type"
    assert problem["allowed"] == ["input_text", "input_audio", "input_image"]


def test_beta_retirement_close_is_named(capture):
    (f,) = analyze(capture("beta-retired"))
    assert f.details["code"] == 4000 and f.details["beta_retired"] is True
    assert "retired" in f.message and "OpenAI-Beta" in f.hint


def test_missing_ack_needs_timestamps(capture):
    records = capture("ga-missing-ack")
    assert {f.rule for f in analyze(records)} == {"missing-ack"}
    untimed = [{**r, "t": None} for r in records]
    assert "missing-ack" not in {f.rule for f in analyze(untimed)}
