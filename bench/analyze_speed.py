"""Analysis speed: ``rtscope analyze`` (every rule) vs a plain ``orjson.loads``-per-line loop.

Generates (once, cached in ``$RTSCOPE_BENCH_CACHE`` or ``<tmp>/rtscope-bench-cache``, never in
the repository) a synthetic capture of GA voice sessions: client ``input_audio_buffer.append``
(60 ms of pcm16, ~3.9 KB) and server ``response.output_audio.delta`` (~4 KB) with VAD events,
items, transcript deltas, ``response.done`` with usage, rate limits: about 70 % of the bytes are
audio messages. Lines are written with rtscope's own ``message_record``/``dumps``.

Then, interleaved A/B, medians of ``--runs``:

- ``lines``: iterate the lines (the floor of any reader);
- ``orjson``: ``orjson.loads`` of every line (the baseline of issue 6, target 4);
- ``analyze``: ``rtscope analyze``'s core (``rtscope.cli.analyze.run``: the reader, the session
  model, every rule).

It also times, on the audio lines alone, ``orjson.loads`` against the "skip the base64" idea
(find the audio string with byte searches, replace it by ``{"bytes": N}``, parse the rest): the
reason ``rtscope analyze`` has no such fast path is this figure.

Peak RSS of one ``rtscope analyze`` subprocess on the file is printed too (``--rss``).

    .venv/bin/python bench/analyze_speed.py [--mb 200] [--runs 3] [--rss]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from rtscope.capture.codec import close_record, dumps, header_record, message_record, open_record

MB = 1_000_000


def cache_dir() -> Path:
    default = Path(tempfile.gettempdir()) / "rtscope-bench-cache"
    path = Path(os.environ.get("RTSCOPE_BENCH_CACHE") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def lines() -> Iterator[bytes]:
    """Capture lines, forever (the caller stops after a close record)."""
    rng = random.Random(1)
    mic = [base64.b64encode(rng.randbytes(2880)).decode() for _ in range(16)]
    spk = [base64.b64encode(rng.randbytes(2880)).decode() for _ in range(16)]
    words = "sure I can help with that your order is on its way and should arrive Thursday".split()
    instructions = "You are a helpful support agent for an online shop. " * 40
    yield dumps(header_record())
    conn_no, t = 0, 1_763_720_100.0
    while True:
        conn = f"c{conn_no:04d}"
        conn_no += 1
        seq = 0
        url = "wss://api.openai.com/v1/realtime?model=gpt-realtime"
        yield dumps(open_record(conn, t, url, {"host": "api.openai.com"}, {}, 101))

        def msg(from_client: bool, event: dict[str, Any], conn: str = conn) -> bytes:
            nonlocal seq, t
            t += 0.02
            seq += 1
            payload = orjson.dumps(event)
            return dumps(message_record(conn, seq, t, from_client, payload, True))

        session = {"type": "realtime", "output_modalities": ["audio"], "instructions": "Be nice."}
        yield msg(False, {"type": "session.created", "event_id": "e0", "session": session})
        for turn in range(60):
            uid, rid, aid = f"iu{turn}", f"resp_{conn}_{turn}", f"ia{turn}"
            # agents update instructions and tools as the conversation moves on
            tools = [
                {"type": "function", "name": f"tool_{k}", "description": "Look it up. " * 20}
                for k in range(12)
            ]
            update = {"type": "realtime", "instructions": instructions, "tools": tools}
            yield msg(True, {"type": "session.update", "session": update})
            yield msg(False, {"type": "session.updated", "session": session | update})
            for i in range(12):
                yield msg(True, {"type": "input_audio_buffer.append", "audio": mic[i % 16]})
                if i == 3:
                    ev = {"type": "input_audio_buffer.speech_started", "audio_start_ms": 180}
                    yield msg(False, ev | {"event_id": f"e{seq}", "item_id": uid})
            stopped = {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 1400}
            yield msg(False, stopped | {"event_id": f"e{seq}", "item_id": uid})
            yield msg(False, {"type": "input_audio_buffer.committed", "item_id": uid})
            item = {
                "id": uid,
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio"}],
            }
            yield msg(False, {"type": "conversation.item.added", "item": item})
            yield msg(False, {"type": "conversation.item.done", "item": item})
            yield msg(False, {"type": "response.created", "response": {"id": rid}})
            limits = [{"name": "tokens", "limit": 80000, "remaining": 79000}]
            yield msg(False, {"type": "rate_limits.updated", "rate_limits": limits})
            ref = {"response_id": rid, "item_id": aid, "output_index": 0, "content_index": 0}
            out = {"id": aid, "type": "message", "role": "assistant", "content": []}
            yield msg(
                False, {"type": "response.output_item.added", "response_id": rid, "item": out}
            )
            part = {"type": "audio", "transcript": ""}
            yield msg(False, {"type": "response.content_part.added", **ref, "part": part})
            spoken = []
            for i in range(12):
                for k in range(2):
                    word = words[(turn + i + k) % len(words)]
                    spoken.append(word)
                    delta = {"type": "response.output_audio_transcript.delta", **ref}
                    yield msg(False, delta | {"delta": word + " "})
                delta = {"type": "response.output_audio.delta", **ref, "delta": spk[i % 16]}
                yield msg(False, delta)
            text = " ".join(spoken)
            yield msg(False, {"type": "response.output_audio.done", **ref})
            done = {"type": "response.output_audio_transcript.done", **ref, "transcript": text}
            yield msg(False, done)
            part = {"type": "audio", "transcript": text}
            yield msg(False, {"type": "response.content_part.done", **ref, "part": part})
            full = out | {"content": [{"type": "output_audio", "transcript": text}]}
            yield msg(
                False, {"type": "response.output_item.done", "response_id": rid, "item": full}
            )
            usage = {"total_tokens": 300, "output_token_details": {"audio_tokens": 75}}
            body = {"id": rid, "status": "completed", "output": [full], "usage": usage}
            yield msg(False, {"type": "response.done", "response": body})
        t += 1
        yield dumps(close_record(conn, t, 1000, "", "client"))


def synth(size_mb: float) -> Path:
    path = cache_dir() / f"analyze-speed-v2-{size_mb:g}MB.jsonl"
    if path.exists():
        return path
    part = path.with_suffix(".part")
    size = int(size_mb * MB)
    total = 0
    with open(part, "wb", buffering=4 * 2**20) as out:
        for line in lines():
            out.write(line)
            total += len(line)
            if total >= size and line.startswith(b'{"kind":"close"'):
                break
    part.replace(path)
    return path


def audio_share(path: Path) -> float:
    audio = total = 0
    with open(path, "rb") as f:
        for line in f:
            total += len(line)
            if b"input_audio_buffer.append" in line[:300] or b"output_audio.delta" in line[:300]:
                audio += len(line)
    return audio / total


def t_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        for _ in f:
            n += 1
    return n


def t_orjson(path: Path) -> int:
    n = 0
    loads = orjson.loads
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            n += 1
    return n


def t_analyze(path: Path) -> int:
    from rtscope.cli.analyze import run

    results, errors = run([str(path)], None, None, False)
    assert not errors, errors
    return results[0].messages


def stub_audio(line: bytes) -> Any:
    """Parse an audio line without its base64: two byte searches, a splice, a small parse."""
    key = b'"audio":' if b"input_audio_buffer.append" in line[:512] else b'"delta":'
    start = line.find(key) + len(key)
    end = line.find(b'"', start + 1)
    if line.find(b"\\", start + 1, end) >= 0:
        return orjson.loads(line)
    size = (end - start - 1) * 3 // 4
    return orjson.loads(b'%s{"bytes":%d}%s' % (line[:start], size, line[end + 1 :]))


def audio_line_costs(path: Path) -> None:
    audio = []
    with open(path, "rb") as f:
        for line in f:
            if b"input_audio_buffer.append" in line[:300] or b"output_audio.delta" in line[:300]:
                audio.append(line)
                if len(audio) >= 20000:
                    break
    size = sum(map(len, audio)) / len(audio)
    for name, fn in (("orjson.loads", orjson.loads), ("skip-base64 stub", stub_audio)):
        best = min(_timed(fn, audio) for _ in range(5))
        print(f"audio line ({size:.0f} B), {name:17}: {best / len(audio) * 1e6:.2f} µs/line")


def _timed(fn: Callable[[bytes], Any], lines: list[bytes]) -> float:
    start = time.perf_counter()
    for line in lines:
        fn(line)
    return time.perf_counter() - start


def rss_of_analyze(path: Path) -> float:
    """Peak RSS (MB) of a ``rtscope analyze`` subprocess on ``path``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "rtscope", "analyze", "--fail-on", "never", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(before, after) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200, help="capture size in MB (10^6 B)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rss", action="store_true", help="peak RSS of rtscope analyze")
    args = parser.parse_args()
    path = synth(args.mb)
    size = path.stat().st_size
    print(f"{path.name}: {size / MB:.0f} MB, audio {audio_share(path):.0%} of the bytes")
    cases: dict[str, Callable[[], int]] = {
        "lines": lambda: t_lines(path),
        "orjson": lambda: t_orjson(path),
        "analyze": lambda: t_analyze(path),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    counts: dict[str, int] = {}
    for _ in range(args.runs):
        for name, fn in cases.items():
            start = time.perf_counter()
            counts[name] = fn()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["orjson"])
    n = counts["orjson"]
    print(f"{'':14} {'s':>7} {'GB/s':>6} {'lines/s':>10} {'vs orjson':>9}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:14} {med:7.2f} {size / med / 1e9:6.2f} {n / med:10.0f} {base / med:8.2f}x")
    audio_line_costs(path)
    if args.rss:
        print(f"peak RSS of rtscope analyze: {rss_of_analyze(path):.0f} MB")


if __name__ == "__main__":
    main()
