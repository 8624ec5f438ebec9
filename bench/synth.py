"""Synthetic capture files for the analysis benches: valid capture v1, realistic event mix, cached.

A generated file holds GA-dialect voice sessions (a new connection every 30 minutes of session
time, like the API's session limit): ``session.created``/``update``/``updated``, then turns of
client ``input_audio_buffer.append`` (60 ms of PCM16 per event, ~3.9 KB), server VAD events
(``speech_started``/``stopped``, ``committed``), user and assistant items, a response with
interleaved ``response.output_audio.delta`` (~4 KB) and transcript deltas, ``response.done`` with
usage, input transcription, ``rate_limits.updated``; some turns are barge-ins (cancelled response,
``conversation.item.truncate``) and some call a function.

Two generators (``version``): **2** (the default) has the issue's mix: the client streams the
microphone all session long (an append every 100 ms), audio deltas every 60 ms of assistant
speech, transcript deltas at speech rate: 76 % of messages and 92 % of bytes are audio.
**1** (``--v1``, ``capture(..., version=1)``) was the first one: appends only while the user
speaks and five transcript deltas per audio delta (~80 per second of speech), so only 32 % of
messages (73 % of bytes) are audio. ``python bench/synth.py SIZE_MB`` prints the mix.

Files are generated once per size into a cache directory (``$RTSCOPE_BENCH_CACHE``, default
``<tmp>/rtscope-bench-cache``), never into the repository. Lines are built the way
``rtscope.capture.codec.message_record`` builds them (payload embedded verbatim, same field order),
without its per-message parse, so a gigabyte takes seconds.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

#: 2: the issue's mix (~70 % of messages are audio: continuous client appends, audio deltas every
#: 60 ms of speech, transcript deltas at speech rate). 1: the first generator (32 % audio messages,
#: ~80 transcript deltas per second of speech), kept reachable with ``version=1`` / ``--v1``.
GENERATOR_VERSION = 2
VERSIONS = (1, 2)
T0 = 1763720100.0
SESSION_SECONDS = 1800.0
MB = 1_000_000


def cache_dir() -> Path:
    path = Path(
        os.environ.get("RTSCOPE_BENCH_CACHE") or Path(tempfile.gettempdir()) / "rtscope-bench-cache"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def capture(
    size_mb: float, directory: Path | None = None, version: int = GENERATOR_VERSION
) -> Path:
    """Path of a cached synthetic capture of about ``size_mb`` MB (10^6 bytes), made if missing.

    ``version`` picks the generator (:data:`VERSIONS`); each has its own cached files.
    """
    if version not in VERSIONS:
        raise ValueError(f"synth generator version {version} (known: {VERSIONS})")
    directory = directory or cache_dir()
    label = f"{size_mb:g}".replace(".", "_")
    path = directory / f"synth-v{version}-{label}MB.jsonl"
    if not path.exists():
        part = path.with_suffix(".part")
        with open(part, "wb", buffering=4 * 2**20) as out:
            for line in lines(int(size_mb * MB), version=version):
                out.write(line)
        part.replace(path)
    return path


class _Session:
    """Writes one file's worth of records; ``self.out`` collects lines until flushed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.t = T0
        self.conn_no = 0
        self.conn = ""
        self.seq = 0
        self.ev = 0
        self.item = 0
        self.audio_ms = 0
        self.out: list[bytes] = []
        # base64 audio pools: 40 ms of client PCM16 (1 920 B) and 60 ms of server PCM16 (2 880 B)
        self.mic = [self._b64(1920) for _ in range(64)]
        self.spk = [self._b64(2880) for _ in range(64)]
        self.words = (
            "sure I can help with that your order number is on its way and should arrive by "
            "Thursday is there anything else you would like to know about the delivery today"
        ).split()

    def _b64(self, n: int) -> str:
        return base64.b64encode(self.rng.randbytes(n)).decode("ascii")

    def _id(self, prefix: str) -> str:
        self.ev += 1
        return f"{prefix}_{self.ev:020d}"

    # ---- records

    def header(self) -> None:
        rec = {
            "kind": "header",
            "format": "rtscope.capture",
            "version": 1,
            "created": "2026-11-21T10:15:00.000000Z",
            "tool": "rtscope-bench synth",
            "synthetic": True,
        }
        self.out.append(orjson.dumps(rec) + b"\n")

    def open(self) -> None:
        self.conn_no += 1
        self.conn = f"c{self.conn_no:07x}"
        self.seq = 0
        rec = {
            "kind": "open",
            "conn": self.conn,
            "t": round(self.t, 6),
            "url": "wss://api.openai.com/v1/realtime?model=gpt-realtime",
            "request_headers": {
                "host": "api.openai.com",
                "authorization": "[REDACTED]",
                "upgrade": "websocket",
                "sec-websocket-version": "13",
            },
            "response_headers": {"upgrade": "websocket", "connection": "Upgrade"},
            "status": 101,
        }
        self.out.append(orjson.dumps(rec) + b"\n")

    def close(self) -> None:
        rec = {
            "kind": "close",
            "conn": self.conn,
            "t": round(self.t, 6),
            "code": 1000,
            "reason": "",
            "by": "client",
        }
        self.out.append(orjson.dumps(rec) + b"\n")

    def msg(self, from_client: bool, event: dict[str, Any], dt: float = 0.0) -> None:
        self.t += dt
        payload = orjson.dumps(event)
        rec = {
            "kind": "msg",
            "conn": self.conn,
            "seq": self.seq,
            "t": round(self.t, 6),
            "from": "client" if from_client else "server",
            "size": len(payload),
            "event": orjson.Fragment(payload),
        }
        self.seq += 1
        self.out.append(orjson.dumps(rec) + b"\n")

    def client(self, event: dict[str, Any], dt: float = 0.0) -> None:
        self.msg(True, {"type": event.pop("type"), "event_id": self._id("evt"), **event}, dt)

    def server(self, event: dict[str, Any], dt: float = 0.0) -> None:
        self.msg(False, {"type": event.pop("type"), "event_id": self._id("event"), **event}, dt)

    # ---- session phases

    def start(self) -> None:
        self.open()
        self.server({"type": "session.created", "session": _session_config()}, 0.25)
        cfg = _session_config()
        cfg.pop("id")
        cfg.pop("object")
        cfg.pop("expires_at")
        self.client({"type": "session.update", "session": cfg}, 0.01)
        self.server({"type": "session.updated", "session": _session_config()}, 0.05)

    def turn(self) -> None:
        rng = self.rng
        user = self._id("item")
        # the app refreshes the assistant's context every turn (instructions + tools)
        self.client({"type": "session.update", "session": _update_config()}, 0.01)
        self.server({"type": "session.updated", "session": _session_config()}, 0.04)
        speech_chunks = rng.randint(20, 90)  # 0.8–3.6 s of speech, 40 ms per append
        for i in range(speech_chunks + 12):
            self.client({"type": "input_audio_buffer.append", "audio": self.mic[i & 63]}, 0.04)
            if i == 3:
                self.server(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": self.audio_ms + 100,
                        "item_id": user,
                    },
                    0.002,
                )
        self.audio_ms += (speech_chunks + 12) * 40
        self.server(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": self.audio_ms,
                "item_id": user,
            },
            0.005,
        )
        self.server({"type": "input_audio_buffer.committed", "item_id": user}, 0.01)
        user_item = {
            "id": user,
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.server({"type": "conversation.item.added", "item": user_item}, 0.002)
        self.server({"type": "conversation.item.done", "item": user_item}, 0.002)
        resp = self._id("resp")
        self.server(
            {
                "type": "response.created",
                "response": {
                    "id": resp,
                    "object": "realtime.response",
                    "status": "in_progress",
                    "output": [],
                    "output_modalities": ["audio"],
                },
            },
            0.05,
        )
        self.server(
            {
                "type": "rate_limits.updated",
                "rate_limits": [
                    {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5}
                ],
            },
            0.002,
        )
        tool = rng.random() < 0.08
        if tool:
            self._tool_call(resp)
            return
        asst = self._id("item")
        item = {
            "id": asst,
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        common = {"response_id": resp, "item_id": asst, "output_index": 0, "content_index": 0}
        self.server(
            {"type": "response.output_item.added", "response_id": resp, "output_index": 0,
             "item": item},
            0.05,
        )  # fmt: skip
        self.server({"type": "conversation.item.added", "item": item}, 0.001)
        self.server(
            {"type": "response.content_part.added", **common,
             "part": {"type": "audio", "transcript": ""}},
            0.001,
        )  # fmt: skip
        barge = rng.random() < 0.12
        chunks = rng.randint(20, 70)
        if barge:
            chunks //= 3
        said: list[str] = []
        for i in range(chunks):
            for k in range(5):  # token-level transcript deltas
                word = self.words[(5 * i + k) % len(self.words)]
                said.append(word)
                self.server(
                    {"type": "response.output_audio_transcript.delta", **common,
                     "delta": word + " ", "obfuscation": "x9Kd0wQz"},
                    0.002,
                )  # fmt: skip
            self.server(
                {"type": "response.output_audio.delta", **common, "delta": self.spk[i & 63],
                 "obfuscation": "a1"},
                0.015,
            )  # fmt: skip
            if i % 2 == 0 and i // 2 < speech_chunks // 3:  # async input transcription
                self.server(
                    {"type": "conversation.item.input_audio_transcription.delta", "item_id": user,
                     "content_index": 0, "delta": " order",
                     "logprobs": [{"token": " order", "logprob": -0.0123,
                                   "bytes": [32, 111, 114, 100, 101, 114]}] * 4},
                    0.001,
                )  # fmt: skip
        transcript = " ".join(said)
        status = "completed"
        if barge:
            status = "cancelled"
            self.server(
                {
                    "type": "input_audio_buffer.speech_started",
                    "audio_start_ms": self.audio_ms + 50,
                    "item_id": self._id("item"),
                },
                0.1,
            )
            self.client(
                {"type": "conversation.item.truncate", "item_id": asst, "content_index": 0,
                 "audio_end_ms": chunks * 60},
                0.02,
            )  # fmt: skip
        self.server({"type": "response.output_audio.done", **common}, 0.01)
        self.server(
            {"type": "response.output_audio_transcript.done", **common, "transcript": transcript},
            0.001,
        )
        done_part = {"type": "audio", "transcript": transcript}
        self.server({"type": "response.content_part.done", **common, "part": done_part}, 0.001)
        done_item = {
            **item,
            "status": "incomplete" if barge else "completed",
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        self.server(
            {"type": "response.output_item.done", "response_id": resp, "output_index": 0,
             "item": done_item},
            0.001,
        )  # fmt: skip
        self.server({"type": "conversation.item.done", "item": done_item}, 0.001)
        if barge:
            self.server({"type": "conversation.item.truncated", "item_id": asst,
                         "content_index": 0, "audio_end_ms": chunks * 60}, 0.01)  # fmt: skip
        self._response_done(resp, status, [done_item], barge)
        self.server(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": user,
                "content_index": 0,
                "transcript": "where is my order and when will it arrive please",
                "usage": {"type": "duration", "seconds": speech_chunks * 0.06},
            },
            0.03,
        )
        self.t += rng.uniform(0.5, 3.0)  # silence before the next turn

    def _tool_call(self, resp: str) -> None:
        call = self._id("call")
        item = {"id": self._id("item"), "type": "function_call", "status": "in_progress",
                "call_id": call, "name": "lookup_order", "arguments": ""}  # fmt: skip
        self.server({"type": "response.output_item.added", "response_id": resp,
                     "output_index": 0, "item": item}, 0.05)  # fmt: skip
        args = '{"order_id":"A-1234567"}'
        for i in range(0, len(args), 6):
            self.server({"type": "response.function_call_arguments.delta", "response_id": resp,
                         "item_id": item["id"], "output_index": 0, "call_id": call,
                         "delta": args[i : i + 6]}, 0.003)  # fmt: skip
        self.server({"type": "response.function_call_arguments.done", "response_id": resp,
                     "item_id": item["id"], "output_index": 0, "call_id": call,
                     "name": "lookup_order", "arguments": args}, 0.001)  # fmt: skip
        done = {**item, "status": "completed", "arguments": args}
        self.server({"type": "response.output_item.done", "response_id": resp,
                     "output_index": 0, "item": done}, 0.001)  # fmt: skip
        self._response_done(resp, "completed", [done], False)
        self.client({"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": call,
            "output": '{"status":"shipped","eta":"Thursday"}'}}, 0.2)  # fmt: skip
        self.server({"type": "conversation.item.added", "item": {
            "id": self._id("item"), "type": "function_call_output", "call_id": call,
            "output": '{"status":"shipped","eta":"Thursday"}'}}, 0.03)  # fmt: skip
        self.client({"type": "response.create"}, 0.001)

    def _response_done(self, resp: str, status: str, output: list[Any], barge: bool) -> None:
        details = {"type": "cancelled", "reason": "turn_detected"} if barge else None
        self.server(
            {
                "type": "response.done",
                "response": {
                    "id": resp,
                    "object": "realtime.response",
                    "status": status,
                    "status_details": details,
                    "output": output,
                    "conversation_id": "conv_SYNTH",
                    "output_modalities": ["audio"],
                    "max_output_tokens": "inf",
                    "audio": {
                        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}
                    },  # fmt: skip
                    "usage": {
                        "total_tokens": 1500,
                        "input_tokens": 1100,
                        "output_tokens": 400,
                        "input_token_details": {
                            "text_tokens": 700,
                            "audio_tokens": 400,
                            "cached_tokens": 640,
                        },  # fmt: skip
                        "output_token_details": {"text_tokens": 90, "audio_tokens": 310},
                    },
                    "metadata": None,
                },
            },
            0.01,
        )


class _SessionV2(_Session):
    """The issue's mix: a timeline where the client streams the microphone all session long.

    - the client appends every :attr:`APPEND_MS` (100 ms) for the whole session, also while the
      assistant speaks (a browser or phone client never stops the microphone);
    - the assistant's audio arrives as one ``response.output_audio.delta`` per 60 ms of speech,
      sent ~3× faster than real time, then plays out before the user speaks again;
    - transcript deltas come at speech rate: one per word, ~3.5 words per second of audio (user
      transcription deltas likewise, over the user's speech);
    - VAD events, items, the response lifecycle, a context refresh (``session.update``) per turn,
      barge-ins and tool calls as in version 1.

    76 % of the messages are audio, 92 % of the bytes (``python bench/synth.py SIZE`` prints
    the mix); version 1 had 32 % and 73 %.
    """

    WORDS_PER_S = 3.5
    #: the microphone's chunk: the top of the usual 40–100 ms. Shorter chunks only add appends
    #: (audio messages: 60 ms → 82 %, 40 ms → 86 % of messages), away from the issue's 70 %.
    APPEND_MS = 100

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.period = 0.06
        self.next_append = self.t
        self.mic_pool: list[str] = []

    def start(self) -> None:
        ms = self.APPEND_MS
        self.period = ms / 1000
        self.mic_pool = [self._b64(ms * 48) for _ in range(16)]  # PCM16 24 kHz mono
        self.next_append = math.inf  # the mic starts once the session is configured
        super().start()
        self.next_append = self.t + 0.02

    def _mic_until(self, t: float) -> None:
        """The appends due up to session time ``t``."""
        while self.next_append <= t:
            self.t = self.next_append
            ev = {"type": "input_audio_buffer.append", "event_id": self._id("evt"),
                  "audio": self.mic_pool[self.seq & 15]}  # fmt: skip
            self.msg(True, ev)
            self.next_append += self.period

    def _at(self, from_client: bool, event: dict[str, Any], dt: float) -> None:
        t = self.t + dt
        self._mic_until(t)
        self.t = t
        prefix = "evt" if from_client else "event"
        self.msg(from_client, {"type": event.pop("type"), "event_id": self._id(prefix), **event})

    def server(self, event: dict[str, Any], dt: float = 0.0) -> None:
        self._at(False, event, dt)

    def client(self, event: dict[str, Any], dt: float = 0.0) -> None:
        self._at(True, event, dt)

    srv = server
    cli = client

    def wait(self, seconds: float) -> None:
        """Let time pass: only the microphone speaks."""
        end = self.t + seconds
        self._mic_until(end)
        self.t = end

    def turn(self) -> None:
        rng = self.rng
        user = self._id("item")
        self.cli({"type": "session.update", "session": _update_config()}, 0.01)
        self.srv({"type": "session.updated", "session": _session_config()}, 0.04)
        speech_s = rng.uniform(0.8, 3.6)
        self.wait(0.3)
        start_ms = int((self.t - T0) * 1000)
        self.srv({"type": "input_audio_buffer.speech_started", "audio_start_ms": start_ms,
                  "item_id": user}, 0.1)  # fmt: skip
        words = max(1, round(speech_s * self.WORDS_PER_S))
        for _ in range(words):  # the user speaks; transcription streams as they speak
            self.wait(speech_s / words)
            self.srv(
                {"type": "conversation.item.input_audio_transcription.delta", "item_id": user,
                 "content_index": 0, "delta": " order",
                 "logprobs": [{"token": " order", "logprob": -0.0123,
                               "bytes": [32, 111, 114, 100, 101, 114]}]},
            )  # fmt: skip
        self.wait(0.5)  # silence_duration_ms
        self.srv({"type": "input_audio_buffer.speech_stopped",
                  "audio_end_ms": int((self.t - T0) * 1000), "item_id": user}, 0.005)  # fmt: skip
        self.srv({"type": "input_audio_buffer.committed", "item_id": user}, 0.01)
        user_item = {"id": user, "type": "message", "status": "completed", "role": "user",
                     "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
        self.srv({"type": "conversation.item.added", "item": user_item}, 0.002)
        self.srv({"type": "conversation.item.done", "item": user_item}, 0.002)
        resp = self._id("resp")
        self.srv({"type": "response.created", "response": {
            "id": resp, "object": "realtime.response", "status": "in_progress", "output": [],
            "output_modalities": ["audio"]}}, 0.05)  # fmt: skip
        self.srv({"type": "rate_limits.updated", "rate_limits": [
            {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5}]},
            0.002)  # fmt: skip
        if rng.random() < 0.08:
            self._tool_call(resp)
            return
        asst = self._id("item")
        item = {"id": asst, "type": "message", "status": "in_progress", "role": "assistant",
                "content": []}  # fmt: skip
        common = {"response_id": resp, "item_id": asst, "output_index": 0, "content_index": 0}
        self.srv({"type": "response.output_item.added", "response_id": resp, "output_index": 0,
                  "item": item}, 0.05)  # fmt: skip
        self.srv({"type": "conversation.item.added", "item": item}, 0.001)
        self.srv({"type": "response.content_part.added", **common,
                  "part": {"type": "audio", "transcript": ""}}, 0.001)  # fmt: skip
        barge = rng.random() < 0.12
        chunks = rng.randint(20, 70)  # 1.2–4.2 s of speech, 60 ms per delta
        if barge:
            chunks //= 3
        speak_start = self.t
        said: list[str] = []
        per_word = 1 / (self.WORDS_PER_S * 0.06)  # audio deltas per transcript delta
        for i in range(chunks):
            while len(said) < (i + 1) / per_word:
                word = self.words[len(said) % len(self.words)]
                said.append(word)
                self.srv({"type": "response.output_audio_transcript.delta", **common,
                          "delta": word + " ", "obfuscation": "x9Kd0wQz"}, 0.002)  # fmt: skip
            self.srv({"type": "response.output_audio.delta", **common,
                      "delta": self.spk[i & 63], "obfuscation": "a1"}, 0.018)  # fmt: skip
        transcript = " ".join(said)
        status = "completed"
        if barge:
            status = "cancelled"
            self.srv({"type": "input_audio_buffer.speech_started",
                      "audio_start_ms": int((self.t - T0) * 1000) + 50,
                      "item_id": self._id("item")}, 0.1)  # fmt: skip
            self.cli({"type": "conversation.item.truncate", "item_id": asst, "content_index": 0,
                      "audio_end_ms": chunks * 60}, 0.02)  # fmt: skip
        self.srv({"type": "response.output_audio.done", **common}, 0.01)
        self.srv({"type": "response.output_audio_transcript.done", **common,
                  "transcript": transcript}, 0.001)  # fmt: skip
        done_part = {"type": "audio", "transcript": transcript}
        self.srv({"type": "response.content_part.done", **common, "part": done_part}, 0.001)
        done_item = {**item, "status": "incomplete" if barge else "completed",
                     "content": [{"type": "output_audio", "transcript": transcript}]}  # fmt: skip
        self.srv({"type": "response.output_item.done", "response_id": resp, "output_index": 0,
                  "item": done_item}, 0.001)  # fmt: skip
        self.srv({"type": "conversation.item.done", "item": done_item}, 0.001)
        if barge:
            self.srv({"type": "conversation.item.truncated", "item_id": asst,
                      "content_index": 0, "audio_end_ms": chunks * 60}, 0.01)  # fmt: skip
        self._response_done(resp, status, [done_item], barge)
        self.srv({"type": "conversation.item.input_audio_transcription.completed",
                  "item_id": user, "content_index": 0,
                  "transcript": "where is my order and when will it arrive please",
                  "usage": {"type": "duration", "seconds": round(speech_s, 2)}}, 0.03)  # fmt: skip
        if not barge:  # the client plays the answer out, then the user thinks
            self.wait(max(0.0, speak_start + chunks * 0.06 - self.t))
        self.wait(rng.uniform(0.5, 3.0))


def _update_config() -> dict[str, Any]:
    """What the app sends in ``session.update``: the session config without server-set fields."""
    cfg = _session_config()
    for key in ("id", "object", "expires_at"):
        cfg.pop(key)
    return cfg


def _session_config() -> dict[str, Any]:
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_SYNTHETIC000000",
        "model": "gpt-realtime",
        "output_modalities": ["audio"],
        "instructions": "You are a helpful, concise voice assistant for an online shop. " * 330,
        "tools": [
            {
                "type": "function",
                "name": "lookup_order",
                "description": "Look up an order's shipping status by its id.",
                "parameters": {
                    "type": "object",
                    "properties": {"order_id": {"type": "string"}},
                    "required": ["order_id"],
                },
            }
        ],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": 1763723700,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-mini-transcribe"},
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "marin",
                "speed": 1.0,
            },  # fmt: skip
        },
        "include": None,
    }


def lines(target_bytes: int, seed: int = 6, version: int = GENERATOR_VERSION) -> Iterator[bytes]:
    """Lines of a capture of at least ``target_bytes`` bytes (ends after a whole turn, ~0.5 MB)."""
    s = (_SessionV2 if version >= 2 else _Session)(random.Random(seed))
    s.header()
    s.start()
    written = 0
    session_start = s.t
    while True:
        s.turn()
        if s.t - session_start > SESSION_SECONDS and written < target_bytes:
            s.close()
            s.t += 5.0
            s.start()
            session_start = s.t
        for line in s.out:
            written += len(line)
            yield line
        s.out.clear()
        if written >= target_bytes:
            break
    s.close()
    yield from s.out


def session_capture(seconds: float, directory: Path | None = None, version: int = 1) -> Path:
    """A cached capture of ONE connection lasting about ``seconds`` of session time.

    Still the v1 mix by default: ``bench/serve_realtime.py``'s figures were measured with it.
    """
    directory = directory or cache_dir()
    label = f"{seconds:g}".replace(".", "_")
    path = directory / f"synth-v{version}-session-{label}s.jsonl"
    if not path.exists():
        part = path.with_suffix(".part")
        s = (_SessionV2 if version >= 2 else _Session)(random.Random(7))
        s.header()
        s.start()
        with open(part, "wb") as out:
            while s.t - T0 < seconds:
                s.turn()
                out.writelines(s.out)
                s.out.clear()
            s.close()
            out.writelines(s.out)
        part.replace(path)
    return path


def _is_audio(line: bytes) -> bool:
    head = line[:200]
    return (
        b'"type":"input_audio_buffer.append"' in head
        or b'"type":"response.output_audio.delta"' in head
    )


def audio_share(path: Path) -> float:
    """Fraction of the file's bytes on lines of audio-carrying events."""
    return mix(path)["audio_bytes"]


def mix(path: Path) -> dict[str, float]:
    """The file's mix: message lines, audio messages and their shares of messages and bytes."""
    audio = total = msgs = audio_msgs = 0
    with open(path, "rb") as f:
        for line in f:
            total += len(line)
            if line.startswith(b'{"kind":"msg"'):
                msgs += 1
            if _is_audio(line):
                audio += len(line)
                audio_msgs += 1
    return {
        "messages": msgs,
        "audio_messages": audio_msgs,
        "audio_msg_share": audio_msgs / msgs if msgs else 0.0,
        "audio_bytes": audio / total if total else 0.0,
    }


def describe(path: Path) -> str:
    """One line: size, messages, audio share of messages and of bytes."""
    m = mix(path)
    return (
        f"{path.stat().st_size / MB:,.1f} MB, {m['messages']:,.0f} messages, audio "
        f"{m['audio_msg_share']:.0%} of messages, {m['audio_bytes']:.0%} of bytes"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("size_mb", type=float, nargs="+")
    p.add_argument("--v1", action="store_true", help="the first generator's mix (32 %% audio msgs)")
    args = p.parse_args()
    for size in args.size_mb:
        path = capture(size, version=1 if args.v1 else GENERATOR_VERSION)
        print(f"{path}  {describe(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
