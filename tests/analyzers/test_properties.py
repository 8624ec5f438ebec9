"""Random, shuffled and truncated event sequences never crash the model or a rule."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtscope.analyzers import analyze
from rtscope.capture.sources import open_source

FIXTURES = Path(__file__).parents[1] / "fixtures"
REAL = [
    list(open_source(p))
    for p in sorted((FIXTURES / "captures").glob("*.jsonl"))
    + sorted((FIXTURES / "seeds").glob("*.txt"))
]
MSGS = [r for records in REAL for r in records if r.get("kind") == "msg"]
TYPES = sorted({r["event"]["type"] for r in MSGS if "event" in r})

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [
    "response",
    "session",
    "item",
    "error",
    "response_id",
    "item_id",
    "delta",
    "audio",
    "rate_limits",
    "event_id",
    "call_id",
    "t",
    "audio_end_ms",
    "part",
]
random_event = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={k: json_value for k in KEYS},
)
random_record = st.builds(
    lambda ev, seq, t, frm: {
        "kind": "msg",
        "conn": "c",
        "seq": seq,
        "t": t,
        "from": frm,
        "event": ev,
    },
    random_event,
    st.integers(0, 50),
    st.one_of(st.none(), st.floats(0, 100)),
    st.sampled_from(["client", "server"]),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(random_record, max_size=40))
def test_random_events_never_crash(records):
    analyze(records, strict=True)


@SETTINGS
@given(st.lists(st.sampled_from(MSGS), max_size=60), st.randoms())
def test_shuffled_real_messages_never_crash(records, rnd):
    records = list(records)
    rnd.shuffle(records)
    analyze(records, strict=True)


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_any_prefix_of_a_real_capture_analyzes(records, data):
    cut = data.draw(st.integers(0, len(records)))
    analyze(records[:cut], strict=True)


def _same_with_and_without_the_audio_fast_path(records: list[dict]) -> None:
    fast = [f.to_dict() for f in analyze(records, strict=True)]
    full = [f.to_dict() for f in analyze(records, strict=True, fast_events=False)]
    assert fast == full


@SETTINGS
@given(st.lists(random_record, max_size=40))
def test_random_events_give_the_same_findings_on_the_audio_fast_path(records):
    _same_with_and_without_the_audio_fast_path(records)


@SETTINGS
@given(st.lists(st.sampled_from(MSGS), max_size=80), st.randoms())
def test_shuffled_real_messages_give_the_same_findings_on_the_audio_fast_path(records, rnd):
    records = list(records)
    rnd.shuffle(records)
    _same_with_and_without_the_audio_fast_path(records)


@SETTINGS
@given(st.sampled_from(REAL), st.data())
def test_real_captures_with_messages_dropped_give_the_same_findings_on_the_fast_path(records, data):
    keep = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    _same_with_and_without_the_audio_fast_path([r for r, k in zip(records, keep, strict=True) if k])
