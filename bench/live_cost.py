"""What live analysis adds to the recorder's ``websocket_message`` hook (µs per message).

Runs the real hook on a mitmproxy test flow with a real capture file, once with live analysis off
and once with the real ``LiveAnalyzer`` (every rule), over the same realistic session: a GA voice
turn repeated (user audio appends every 100 ms with VAD events, then a response of audio deltas
with transcript deltas, rate limits, item and part events, response.done). Runs are interleaved
(off, on, off, on, …) and the median per-message time of each is printed, by message kind too.

    .venv/bin/python bench/live_cost.py [--turns 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

from rtscope.analyzers import LiveAnalyzer
from rtscope.proxy.addon import Recorder
from rtscope.proxy.live import LiveFindings

AUDIO = base64.b64encode(os.urandom(4800)).decode()  # 100 ms of 24 kHz pcm16


def session(turns: int) -> list[tuple[bool, bytes]]:
    """(from_client, payload) of a GA voice session of ``turns`` user/assistant turns."""
    out: list[tuple[bool, bytes]] = []
    n = 0

    def ev(from_client: bool, **event: Any) -> None:
        nonlocal n
        n += 1
        event.setdefault("event_id", f"evt_{n}")
        out.append((from_client, json.dumps(event).encode()))

    ev(False, type="session.created", session={"type": "realtime", "output_modalities": ["audio"]})
    for turn in range(turns):
        uid, rid, aid = f"item_u{turn}", f"resp_{turn}", f"item_a{turn}"
        for i in range(20):
            ev(True, type="input_audio_buffer.append", audio=AUDIO)
            if i == 2:
                ev(False, type="input_audio_buffer.speech_started", audio_start_ms=0, item_id=uid)
        ev(False, type="input_audio_buffer.speech_stopped", audio_end_ms=1800, item_id=uid)
        ev(False, type="input_audio_buffer.committed", previous_item_id=None, item_id=uid)
        item = {"id": uid, "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
        ev(False, type="conversation.item.added", previous_item_id=None, item=item)
        ev(False, type="conversation.item.done", previous_item_id=None, item=item)
        ev(False, type="response.created", response={"id": rid, "status": "in_progress"})
        ref = {"response_id": rid, "item_id": aid, "output_index": 0, "content_index": 0}
        msg = {"id": aid, "type": "message", "role": "assistant", "content": []}
        ev(False, type="response.output_item.added", response_id=rid, output_index=0, item=msg)
        ev(False, type="response.content_part.added", **ref, part={"type": "audio"})
        for _ in range(20):
            ev(False, type="response.output_audio_transcript.delta", **ref, delta="word ")
            ev(False, type="response.output_audio.delta", **ref, delta=AUDIO)
        ev(False, type="response.output_audio.done", **ref)
        ev(False, type="response.output_audio_transcript.done", **ref, transcript="word " * 20)
        ev(False, type="response.content_part.done", **ref, part={"type": "audio"})
        ev(False, type="response.output_item.done", response_id=rid, output_index=0, item=msg)
        usage = {"output_token_details": {"audio_tokens": 40, "text_tokens": 10}}
        done = {"id": rid, "status": "completed", "output": [msg], "usage": usage}
        ev(False, type="response.done", response=done)
    return out


async def one_run(messages: list[tuple[bool, bytes]], live: bool, tmp: Path) -> dict[str, float]:
    """Total hook seconds per message kind (control, audio)."""
    recorder = Recorder(out=open(os.devnull, "w"), err=open(os.devnull, "w"))  # noqa: SIM115
    recorder.out_dir = tmp
    if live:
        recorder.live = LiveFindings(LiveAnalyzer(), lambda line: None)
    flow = tflow.twebsocketflow(messages=False)
    flow.websocket.messages = []
    await recorder.websocket_start(flow)
    spent = {"audio": 0.0, "control": 0.0}
    count = {"audio": 0, "control": 0}
    clock = time.perf_counter
    base = time.time()
    for i, (from_client, payload) in enumerate(messages):
        message = WebSocketMessage(Opcode.TEXT, from_client, payload, timestamp=base + i * 0.005)
        kind = "audio" if len(payload) > 4000 else "control"
        flow.websocket.messages.append(message)
        start = clock()
        recorder.websocket_message(flow)
        spent[kind] += clock() - start
        count[kind] += 1
    recorder.websocket_end(flow)
    await recorder.done()
    total = sum(spent.values()) / sum(count.values())
    return {
        "all": total * 1e6,
        "audio": spent["audio"] / count["audio"] * 1e6,
        "control": spent["control"] / count["control"] * 1e6,
    }


async def run(turns: int, runs: int) -> None:
    messages = session(turns)
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            for live in (False, True):
                results[live].append(await one_run(messages, live, Path(tmp) / f"{r}{live}"))
    print(f"{len(messages)} messages per run, {runs} interleaved runs, medians (µs/message)")
    print(f"{'':10} {'all':>8} {'audio':>8} {'control':>8}")
    kinds = ("all", "audio", "control")
    med = {
        live: {k: statistics.median(r[k] for r in results[live]) for k in kinds}
        for live in (False, True)
    }
    for live in (False, True):
        m = med[live]
        label = "live on" if live else "live off"
        print(f"{label:10} {m['all']:8.1f} {m['audio']:8.1f} {m['control']:8.1f}")
    d = {k: med[True][k] - med[False][k] for k in ("all", "audio", "control")}
    print(f"{'added':10} {d['all']:8.1f} {d['audio']:8.1f} {d['control']:8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="user/assistant turns per run")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs of each")
    args = parser.parse_args()
    asyncio.run(run(args.turns, args.runs))
