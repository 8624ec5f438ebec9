"""Hypothesis over the session model with every rule, fed record by record (``LiveAnalyzer``).

Beyond tests/analyzers/test_properties.py (well-formed msg records of one connection through
``analyze``), this feeds what a live recorder or a damaged import can produce: several connections
interleaved, ``open``/``close`` records in any place (a close before the open, messages after the
close, a connection reopened), odd field types (``seq`` a string, ``t`` a bool, ``from`` missing),
text and binary messages, real events with their fields replaced, shuffled and truncated real
captures, and ``tick``/``finish`` at any time. ``strict=True`` makes a crashing rule raise instead
of being retired with a finding, so any exception fails the test. Each example has a deadline.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtscope.analyzers import LiveAnalyzer, select_rules
from rtscope.analyzers.findings import Finding
from rtscope.capture.sources import open_source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REAL = [
    list(open_source(p))
    for p in sorted((FIXTURES / "captures").glob("*.jsonl"))
    + sorted((FIXTURES / "seeds").glob("*.txt"))
]
RECORDS = [r for records in REAL for r in records]
EVENTS = [r["event"] for r in RECORDS if isinstance(r.get("event"), dict)]
TYPES = sorted({str(e.get("type")) for e in EVENTS})

SETTINGS = settings(
    # RTSCOPE_FUZZ_EXAMPLES=5000 pytest tests/fuzz: a longer hunt than make test's.
    max_examples=int(os.environ.get("RTSCOPE_FUZZ_EXAMPLES", "300")),
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
odd = json_values | st.sampled_from([True, "7", -1, 1e308, float("nan")])
conns = st.sampled_from(["a", "b", "c"])


def _event_variant(base: dict[str, Any], key: str | None, value: Any) -> dict[str, Any]:
    event = dict(base)
    if key is not None:
        event[key] = value
    return event


events = st.builds(
    _event_variant,
    st.sampled_from(EVENTS),
    st.none()
    | st.sampled_from(
        [
            "response",
            "item",
            "session",
            "delta",
            "item_id",
            "error",
            "response_id",
            "audio",
            "call_id",
            "type",
            "rate_limits",
        ]
    ),  # fmt: skip
    odd | st.sampled_from(TYPES),
) | st.fixed_dictionaries({"type": st.sampled_from(TYPES) | odd}, optional={"response": odd})

msg = st.fixed_dictionaries(
    {"kind": st.just("msg"), "conn": conns},
    optional={
        "seq": st.integers(-1, 60) | odd,
        "t": st.floats(0, 1000) | odd,
        "from": st.sampled_from(["client", "server"]) | odd,
        "event": events,
        "text": st.text(max_size=20),
        "data_b64": st.sampled_from(["", "AAAA", "not base64!"]),
        "size": odd,
    },
)
opened = st.fixed_dictionaries(
    {"kind": st.just("open"), "conn": conns},
    optional={
        "t": st.floats(0, 1000) | odd,
        "url": st.sampled_from(["ws://127.0.0.1/v1/realtime?model=gpt-realtime", ""]) | odd,
        "request_headers": st.dictionaries(
            st.sampled_from(["openai-beta", "authorization", "x"]), st.text(max_size=12)
        )
        | odd,
        "status": st.sampled_from([101, 401, 500, None]) | odd,
        "body": odd,
    },
)
closed = st.fixed_dictionaries(
    {"kind": st.just("close"), "conn": conns},
    optional={
        "t": st.floats(0, 1000) | odd,
        "code": st.sampled_from([1000, 1006, 1011, None]) | odd,
        "reason": odd,
        "by": st.sampled_from(["client", "server", None]) | odd,
    },
)
other = st.fixed_dictionaries({"kind": st.sampled_from(["header", "error", "finding", "x"])})
records = st.one_of(msg, msg, msg, opened, closed, other, st.sampled_from(RECORDS))
#: A step: feed a record, or tick a time, or finish one connection / all.
steps = st.one_of(
    records.map(lambda r: ("feed", r)),
    st.tuples(st.just("tick"), st.floats(0, 2000), st.none() | conns),
    st.tuples(st.just("finish"), st.none() | conns),
)


def drive(steps_: list[Any]) -> list[Finding]:
    live = LiveAnalyzer(strict=True)
    out: list[Finding] = []
    for step in steps_:
        if step[0] == "feed":
            out += live.feed(step[1])
        elif step[0] == "tick":
            out += live.tick(step[1], step[2])
        else:
            out += live.finish(step[1])
    out += live.finish()
    for finding in out:
        assert isinstance(finding, Finding)
        finding.to_dict()  # every finding serializes (analyze --format json, live records)
    return out


def test_every_rule_is_active() -> None:
    assert len(select_rules(None, None)) >= 20


@SETTINGS
@given(st.lists(steps, max_size=60))
def test_random_record_streams_with_ticks_and_finishes_never_crash(steps_: list[Any]) -> None:
    drive(steps_)


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_shuffled_truncated_real_captures_fed_live_never_crash(
    real: list[dict[str, Any]], data: st.DataObject
) -> None:
    chosen = data.draw(st.permutations(real)) if data.draw(st.booleans()) else real
    cut = data.draw(st.integers(0, len(chosen)))
    drop = data.draw(st.sets(st.integers(0, max(0, cut - 1)), max_size=5))
    fed = [r for i, r in enumerate(chosen[:cut]) if i not in drop]
    drive([("feed", r) for r in fed])


@SETTINGS
@given(st.lists(st.sampled_from(REAL), min_size=2, max_size=3), st.randoms())
def test_real_captures_interleaved_on_one_connection_id_never_crash(
    reals: list[list[dict[str, Any]]], rnd: Any
) -> None:
    merged = [{**r, "conn": "x"} if "conn" in r else r for real in reals for r in real]
    rnd.shuffle(merged)
    drive([("feed", r) for r in merged])
