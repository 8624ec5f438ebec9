"""Replay planning: timings, acks, id rewriting, lateness statistics."""

from __future__ import annotations

import pytest

from rtscope.replay.plan import AckTracker, IdMap, lateness_stats, parse_timings, target_offset


def test_timings_parse_as_a_comma_list_without_duplicates():
    assert parse_timings("original, ack,original") == ["original", "ack"]
    with pytest.raises(ValueError, match="unknown timing 'fast'"):
        parse_timings("fast")


def test_target_offset_per_timing():
    assert target_offset("original", 2.0, 2.0, shift=5.0) == 1.0  # shift only counts in ack
    assert target_offset("ack", 2.0, 2.0, shift=0.3) == pytest.approx(1.3)
    assert target_offset("asap", 2.0, 1.0, shift=1.0) == 0.0


def test_ack_tracker_waits_for_the_documented_answer_or_an_error():
    acks = AckTracker()
    acks.sent("input_audio_buffer.append")
    assert acks.pending is None  # appends are never acknowledged
    acks.sent("session.update")
    acks.received("conversation.item.added")
    assert acks.pending == "session.update"
    acks.received("session.updated")
    assert acks.pending is None
    acks.sent("conversation.item.create")
    acks.received("error")
    assert acks.pending is None


def test_ids_are_rewritten_by_order_of_appearance():
    ids = IdMap()
    ids.learn_recorded(
        [
            {"type": "conversation.item.added", "item": {"id": "item_OLD1"}},
            {"type": "response.created", "response": {"id": "resp_OLD"}},
            {
                "type": "response.output_item.added",
                "response_id": "resp_OLD",
                "item": {"id": "item_OLD2", "type": "function_call", "call_id": "call_OLD"},
            },
        ]
    )
    ids.learn({"type": "conversation.item.added", "item": {"id": "item_NEW1"}})
    ids.learn({"type": "response.created", "response": {"id": "resp_NEW"}})
    ids.learn(
        {
            "type": "response.output_item.added",
            "response_id": "resp_NEW",
            "item": {"id": "item_NEW2", "type": "function_call", "call_id": "call_NEW"},
        }
    )
    out = ids.rewrite(
        {
            "type": "conversation.item.create",
            "previous_item_id": "item_OLD2",
            "item": {"type": "function_call_output", "call_id": "call_OLD"},
        }
    )
    assert out["previous_item_id"] == "item_NEW2"
    assert out["item"]["call_id"] == "call_NEW"
    assert ids.rewrite({"type": "response.cancel", "response_id": "resp_OLD"})["response_id"] == (
        "resp_NEW"
    )
    assert ids.unmapped == []


def test_an_unmappable_reference_is_reported_and_client_ids_are_kept():
    ids = IdMap()
    ids.note_client({"type": "conversation.item.create", "item": {"id": "item_mine"}})
    ids.learn_recorded(
        [
            {"type": "conversation.item.added", "item": {"id": "item_mine"}},
            {"type": "conversation.item.added", "item": {"id": "item_S1"}},
        ]
    )
    out = ids.rewrite({"type": "conversation.item.delete", "item_id": "item_S1"}, seq=7)
    assert out["item_id"] == "item_S1"
    assert ids.unmapped == [
        "#7 conversation.item.delete item_id=item_S1 (item #1, not seen in the new session)"
    ]
    assert ids.rewrite({"type": "x", "item_id": "item_mine"})["item_id"] == "item_mine"


def test_lateness_percentiles_in_milliseconds():
    stats = lateness_stats([0.001 * i for i in range(1, 101)])
    assert stats == {"count": 100, "p50_ms": 51.0, "p99_ms": 99.0, "max_ms": 100.0}
    assert lateness_stats([])["count"] == 0
