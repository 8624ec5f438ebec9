"""bench/serve_realtime.py's summary of when clients fell behind (the smoke run is in test_scripts)."""

from __future__ import annotations

from serve_realtime import Plan, Result, late_moments, per_minute


def test_late_moments_ranks_seconds_by_clients_behind_then_by_the_worst_lateness() -> None:
    plan = Plan(server=[0.1, 1.2, 1.5, 7.0])
    a = Result(late=[0.0, 0.08, 0.0, 0.2])
    b = Result(late=[0.06, 0.09, 0.3, 0.0])
    c = Result(late=[0.0, 0.0, 0.051, 0.0])  # many late messages in one second count once
    assert late_moments([a, b, c], plan) == "1 s: 3 (300 ms), 7 s: 1 (200 ms), 0 s: 1 (60 ms)"
    assert late_moments([a, b, c], plan, top=1) == "1 s: 3 (300 ms)"


def test_late_moments_says_none_when_no_client_was_behind() -> None:
    assert late_moments([Result(late=[0.01, 0.05])], Plan(server=[0.0, 1.0])) == "none"


def test_per_minute_gives_p99_and_max_for_each_minute_of_the_session() -> None:
    plan = Plan(server=[1.0, 59.0, 61.0])
    results = [Result(late=[0.001, 0.002, 0.5]), Result(late=[0.001, 0.002, 0.004])]
    assert per_minute(results, plan) == "0-1 min 2.0/2.0, 1-2 min 495.0/500.0"
