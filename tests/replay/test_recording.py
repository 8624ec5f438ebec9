"""Picking one connection of a capture for replay, serve and diff."""

from __future__ import annotations

import pytest

from rtscope.capture.codec import dumps, header_record, message_record, open_record
from rtscope.errors import InputError
from rtscope.replay.recording import load_recording


def write(path, records):
    path.write_bytes(b"".join(dumps(r) for r in [header_record(), *records]))
    return path


def two_connections(tmp_path):
    event = b'{"type":"session.created"}'
    return write(
        tmp_path / "two.jsonl",
        [
            open_record("empty", 1.0, "ws://h/v1/realtime", [], [], 101),
            open_record("a", 2.0, "ws://h/v1/realtime", {"OpenAI-Beta": "realtime=v1"}, [], 101),
            message_record("a", 1, 2.5, False, event, True),
            open_record("b", 3.0, "ws://h/v1/realtime", [], [], 101),
            message_record("b", 1, 3.25, False, event, True),
        ],
    )


def test_default_is_the_first_connection_with_messages(tmp_path):
    rec = load_recording(two_connections(tmp_path))
    assert rec.conn == "a"
    assert rec.beta
    assert rec.offset(rec.messages[0]) == 0.5


def test_conn_picks_another_and_an_unknown_one_lists_the_known(tmp_path):
    path = two_connections(tmp_path)
    rec = load_recording(path, "b")
    assert (rec.conn, rec.beta, rec.offset(rec.messages[0])) == ("b", False, 0.25)
    with pytest.raises(InputError, match=r"no connection 'zz' \(connections: empty, a, b\)"):
        load_recording(path, "zz")


def test_a_capture_without_messages_is_an_input_error(tmp_path):
    path = write(tmp_path / "none.jsonl", [open_record("x", 1.0, "ws://h", [], [], 101)])
    with pytest.raises(InputError, match="no WebSocket messages in this capture"):
        load_recording(path)
