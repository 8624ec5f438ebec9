"""A long recorded GA voice session, built turn by turn as capture records (for memory tests).

Each turn is what a busy app does: a ``session.update`` (long instructions, modalities), user
audio with server VAD, the committed user item and its transcription, an assistant audio
response with its parts; every 3rd turn an ``error``, every 5th a function call answered by the
client, every 7th a seeded system item. Timestamps advance 2 s per turn. Built by hand here, not
by the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

AUDIO = "A" * 6400  # 4 800 bytes of base64: 100 ms of pcm16 at 24 kHz
DELTA_MS = 100
T0 = 1_763_720_000.0


class LongSession:
    """``for record in LongSession("c1").records(turns): …`` (``turn`` counts them)."""

    def __init__(self, conn: str = "long") -> None:
        self.conn = conn
        self.seq = 0
        self.t = T0
        self.turn = 0

    def _msg(self, frm: str, event: dict[str, Any], dt: float = 0.01) -> dict[str, Any]:
        self.t += dt
        record = {
            "kind": "msg",
            "conn": self.conn,
            "seq": self.seq,
            "t": round(self.t, 6),
            "from": frm,
            "size": 100,
            "event": event,
        }
        self.seq += 1
        return record

    def client(self, type_: str, **fields: Any) -> dict[str, Any]:
        return self._msg("client", {"type": type_, "event_id": f"evt_{self.seq}", **fields})

    def server(self, type_: str, **fields: Any) -> dict[str, Any]:
        return self._msg("server", {"type": type_, "event_id": f"event_{self.seq}", **fields})

    def start(self) -> Iterator[dict[str, Any]]:
        yield {
            "kind": "open",
            "conn": self.conn,
            "t": self.t,
            "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
            "request_headers": {"authorization": "[REDACTED]"},
            "response_headers": {},
            "status": 101,
        }
        yield self.server("session.created", session=_session(self.turn))

    def close(self) -> dict[str, Any]:
        return {
            "kind": "close",
            "conn": self.conn,
            "t": self.t,
            "code": 1000,
            "reason": "",
            "by": "client",
        }

    @staticmethod
    def user_id(turn: int) -> str:
        return f"item_user_{turn:06d}"

    @staticmethod
    def assistant_id(turn: int) -> str:
        return f"item_asst_{turn:06d}"

    def one_turn(self) -> Iterator[dict[str, Any]]:
        n = self.turn
        self.turn += 1
        user, asst, rid = self.user_id(n), self.assistant_id(n), f"resp_{n:06d}"
        config = _session(n)
        del config["id"], config["object"]
        yield self.client("session.update", session=config)
        yield self.server("session.updated", session=_session(n))
        for i in range(3):
            yield self.client("input_audio_buffer.append", audio=AUDIO)
            if i == 0:
                yield self.server(
                    "input_audio_buffer.speech_started", audio_start_ms=0, item_id=user
                )
        yield self.server("input_audio_buffer.speech_stopped", audio_end_ms=300, item_id=user)
        yield self.server("input_audio_buffer.committed", item_id=user)
        item = {"id": user, "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
        yield self.server("conversation.item.added", item=item)
        yield self.server("response.created", response={"id": rid, "status": "in_progress"})
        yield self.server(
            "rate_limits.updated",
            rate_limits=[{"name": "tokens", "limit": 40000, "remaining": 39000}],
        )
        if n % 5 == 4:
            yield from self._tool_call(rid, n)
        else:
            yield from self._answer(rid, asst)
        yield self.server(
            "conversation.item.input_audio_transcription.completed",
            item_id=user,
            content_index=0,
            transcript="where is my order",
        )
        if n % 3 == 2:
            yield self.server(
                "error",
                error={"type": "invalid_request_error", "code": f"code_{n % 2}", "message": "x"},
            )
        if n % 7 == 6:
            system = {
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "Be brief."}],
            }
            yield self.client("conversation.item.create", item=system)
            yield self.server("conversation.item.added", item={"id": f"item_sys_{n:06d}", **system})
        self.t += 1.5

    def _answer(self, rid: str, asst: str) -> Iterator[dict[str, Any]]:
        ids = {"response_id": rid, "item_id": asst, "output_index": 0, "content_index": 0}
        item = {"id": asst, "type": "message", "role": "assistant", "content": []}
        yield self.server("response.output_item.added", response_id=rid, output_index=0, item=item)
        yield self.server("conversation.item.added", item=item)
        yield self.server("response.content_part.added", **ids, part={"type": "audio"})
        for _ in range(2):
            yield self.server("response.output_audio.delta", **ids, delta=AUDIO)
            yield self.server("response.output_audio_transcript.delta", **ids, delta="Sure. ")
        yield self.server("response.output_audio.done", **ids)
        yield self.server("response.output_audio_transcript.done", **ids, transcript="Sure. Sure.")
        yield self.server("response.content_part.done", **ids, part={"type": "audio"})
        done = {**item, "content": [{"type": "output_audio", "transcript": "Sure. Sure."}]}
        yield self.server("response.output_item.done", response_id=rid, output_index=0, item=done)
        yield self.server(
            "response.done", response={"id": rid, "status": "completed", "output": [done]}
        )

    def _tool_call(self, rid: str, n: int) -> Iterator[dict[str, Any]]:
        call = {
            "id": f"item_call_{n:06d}",
            "type": "function_call",
            "call_id": f"call_{n:06d}",
            "name": "lookup",
        }
        yield self.server("response.output_item.added", response_id=rid, output_index=0, item=call)
        yield self.server(
            "response.output_item.done",
            response_id=rid,
            output_index=0,
            item={**call, "arguments": "{}"},
        )
        yield self.server(
            "response.done", response={"id": rid, "status": "completed", "output": [call]}
        )
        output = {"type": "function_call_output", "call_id": call["call_id"], "output": "{}"}
        yield self.client("conversation.item.create", item=output)
        yield self.server("conversation.item.added", item={"id": f"item_out_{n:06d}", **output})
        yield self.client("response.create")
        # the answer to the tool output: a second response of this turn
        yield self.server("response.created", response={"id": f"{rid}_b", "status": "in_progress"})
        yield from self._answer(f"{rid}_b", self.assistant_id(n))


def _session(n: int) -> dict[str, Any]:
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_LONG",
        "output_modalities": ["audio"],
        "instructions": f"You are a helpful voice assistant (context {n}). " + "Be kind. " * 200,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-mini-transcribe"},
                "turn_detection": {"type": "server_vad"},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
        },
    }
