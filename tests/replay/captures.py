"""Small hand-written captures for the replay tests (records as the codec writes them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from rtscope.capture.codec import close_record, message_record, open_record
from rtscope.capture.writer import CaptureWriter

T0 = 1_700_000_000.0


def write_capture(
    path: Path,
    messages: list[tuple[float, str, dict[str, Any]]],
    *,
    beta: bool = False,
    close: tuple[float, int, str] | None = None,
    conn: str = "c1",
) -> Path:
    """``messages``: ``(offset_s, "client"|"server", event)``."""
    headers = [("OpenAI-Beta", "realtime=v1")] if beta else []
    with CaptureWriter(path) as writer:
        writer.write(
            open_record(
                conn, T0, "wss://api.openai.com/v1/realtime?model=gpt-realtime", headers, [], 101
            )
        )
        for seq, (offset, side, event) in enumerate(messages, 1):
            writer.write(
                message_record(conn, seq, T0 + offset, side == "client", orjson.dumps(event), True)
            )
        if close is not None:
            offset, code, by = close
            writer.write(close_record(conn, T0 + offset, code, "", by))  # type: ignore[arg-type]
    return path


#: A short GA text session: created, update/updated, item, response with ids.
TEXT_SESSION: list[tuple[float, str, dict[str, Any]]] = [
    (
        0.00,
        "server",
        {
            "type": "session.created",
            "event_id": "e1",
            "session": {"type": "realtime", "output_modalities": ["audio"]},
        },
    ),
    (
        0.05,
        "client",
        {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}},
    ),
    (
        0.10,
        "server",
        {
            "type": "session.updated",
            "event_id": "e2",
            "session": {"type": "realtime", "output_modalities": ["text"]},
        },
    ),
    (
        0.20,
        "client",
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello"}],
            },
        },
    ),
    (
        0.22,
        "server",
        {
            "type": "conversation.item.added",
            "event_id": "e3",
            "previous_item_id": None,
            "item": {
                "id": "item_U1",
                "type": "message",
                "role": "user",
                "status": "completed",
                "content": [{"type": "input_text", "text": "Hello"}],
            },
        },
    ),
    (0.30, "client", {"type": "response.create"}),
    (
        0.32,
        "server",
        {
            "type": "response.created",
            "event_id": "e4",
            "response": {
                "id": "resp_R1",
                "status": "in_progress",
                "output_modalities": ["text"],
                "output": [],
            },
        },
    ),
    (
        0.34,
        "server",
        {
            "type": "response.output_text.delta",
            "event_id": "e5",
            "response_id": "resp_R1",
            "item_id": "item_A1",
            "delta": "Hi",
        },
    ),
    (
        0.36,
        "server",
        {
            "type": "response.output_text.delta",
            "event_id": "e6",
            "response_id": "resp_R1",
            "item_id": "item_A1",
            "delta": " there",
        },
    ),
    (
        0.40,
        "server",
        {
            "type": "response.done",
            "event_id": "e7",
            "response": {
                "id": "resp_R1",
                "status": "completed",
                "output_modalities": ["text"],
                "output": [
                    {
                        "id": "item_A1",
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "Hi there"}],
                    }
                ],
            },
        },
    ),
    (0.50, "client", {"type": "conversation.item.delete", "item_id": "item_A1"}),
    (0.52, "server", {"type": "conversation.item.deleted", "event_id": "e8", "item_id": "item_A1"}),
]
