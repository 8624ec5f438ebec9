"""The hand-off pipe's wire format: items and answers, whatever the chunks they come in."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtscope.proxy.handoff import (
    CTL,
    HEADER,
    MSG,
    Item,
    ItemReader,
    LineReader,
    control,
    message_header,
)


def _stream() -> tuple[bytes, list[Item]]:
    """Messages of every flag combination and size (empty, binary, large), and controls."""
    parts: list[bytes] = []
    expected: list[Item] = []
    for key, (t, from_client, is_text, data) in enumerate(
        [
            (1.5, True, True, b'{"type":"session.update"}'),
            (2.25, False, True, b""),
            (3.0, True, False, bytes(range(256))),
            (1763719200.123456, False, False, b"\n" * 70_000),
        ],
        start=1,
    ):
        parts.append(message_header(key, t, from_client, is_text, len(data)) + data)
        expected.append(Item(MSG, key, t, from_client, is_text, data))
    body = {"op": "start", "conn": "c1", "record": {"kind": "open", "url": "ws://x/é"}}
    parts.append(control("start", 7, conn="c1", record=body["record"]))
    expected.append(Item(CTL, 7, 0.0, False, False, orjson.dumps(body)))
    return b"".join(parts), expected


def test_items_come_out_as_they_went_in() -> None:
    data, expected = _stream()
    reader = ItemReader()
    assert reader.feed(data) == expected
    assert reader.pending == 0


@given(st.lists(st.integers(min_value=0, max_value=80_000), max_size=6))
def test_items_split_anywhere_come_out_the_same(cuts: list[int]) -> None:
    data, expected = _stream()
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    reader = ItemReader()
    got: list[Item] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        got.extend(reader.feed(data[start:end]))
    assert got == expected
    assert reader.pending == 0


def test_one_byte_at_a_time() -> None:
    data, expected = _stream()
    data = data[:400]  # the first three messages and part of the fourth
    reader = ItemReader()
    got = [item for i in range(len(data)) for item in reader.feed(data[i : i + 1])]
    assert got == expected[:3]
    assert reader.pending == 400 - sum(HEADER.size + len(i.payload) for i in expected[:3])


def test_a_cut_stream_leaves_its_partial_item_pending() -> None:
    data, expected = _stream()
    reader = ItemReader()
    assert reader.feed(data[:-5]) == expected[:-1]
    assert reader.pending == HEADER.size + len(expected[-1].payload) - 5


def test_an_unknown_item_kind_is_an_error() -> None:
    bad = bytearray(message_header(1, 0.0, True, True, 0))
    bad[0] = 9
    with pytest.raises(ValueError, match="unknown item kind 9"):
        ItemReader().feed(bytes(bad))


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=5))
def test_answers_split_anywhere_come_out_the_same(cuts: list[int]) -> None:
    answers = [
        {"out": "captures/x.jsonl: 1 client"},
        {"sync": 3},
        {"err": "é\u2028"},
        {"stopped": True},
    ]
    data = b"".join(orjson.dumps(a) + b"\n" for a in answers)
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    reader = LineReader()
    got = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        got.extend(reader.feed(data[start:end]))
    assert got == answers
