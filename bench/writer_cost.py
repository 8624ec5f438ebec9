"""What the writer process (``--writer process``) spends per message, away from the proxy's load.

The writer is fed a hand-off stream from a file (``proxy/handoff.py``'s items: config, one
connection's start, N messages, stop), as fast as it can read it, and its CPU time (user+system
of the child) is measured; a stream with no messages gives its start-up and shutdown, subtracted.
Beside it, the same :class:`~rtscope.proxy.addon.Recorder` code in this process, called message by
message as inline recording does. The difference is what the hand-off itself costs the writer
(reading the pipe, splitting items, its event loop): the part of the writer's CPU that inline
recording does not spend. Medians of ``--repeats`` runs; the messages are the throughput bench's
(``bench/harness.py``), client audio appends for 4 KB, ``conversation.item.retrieve`` for 200 B.

    python bench/writer_cost.py [--messages 20000] [--sizes 200,4096] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c
import harness

from rtscope.capture.codec import open_record
from rtscope.proxy.addon import Recorder
from rtscope.proxy.connection import ConnectionLog
from rtscope.proxy.handoff import control, message_header


def _stream(out_dir: Path, live: bool, messages: list[bytes]) -> bytes:
    settings = {
        "dir": str(out_dir), "audio": "keep", "live": live, "quiet": True, "file": None,
        "mapped": False,
    }  # fmt: skip
    record = open_record("c1", 1.0, "ws://127.0.0.1/v1/realtime?model=bench", [], [], 101)
    parts = [
        control("config", **settings),
        control("start", 1, conn="c1", t_open=1.0, model="bench", record=record),
        harness_session_created(),
    ]
    for i, data in enumerate(messages):
        parts.append(message_header(1, 2.0 + i * 1e-3, True, True, len(data)))
        parts.append(data)
    parts.append(control("stop"))
    return b"".join(parts)


def harness_session_created() -> bytes:
    """The server's ``session.created`` first, as in the throughput bench's sessions."""
    data = harness.SESSION_CREATED
    return message_header(1, 1.5, False, True, len(data)) + data


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def writer_seconds(stream: bytes) -> float:
    """CPU seconds of one writer process reading ``stream`` to its end."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        before = _children_cpu()
        writer = subprocess.Popen(
            [sys.executable, "-m", "rtscope.proxy.writer_process", str(devnull)],
            stdin=subprocess.PIPE,  # a pipe, as from the proxy (the writer's loop polls it)
            pass_fds=(devnull,),
        )
        writer.communicate(stream)
        if writer.returncode:
            raise SystemExit(f"writer_cost: the writer process exited {writer.returncode}")
        return _children_cpu() - before
    finally:
        os.close(devnull)


def inline_seconds(out_dir: Path, live: bool, messages: list[bytes]) -> float:
    """CPU seconds of this process's Recorder writing ``messages`` as inline recording does."""

    async def run() -> float:
        recorder = Recorder(out=open(os.devnull, "w"), err=open(os.devnull, "w"))  # noqa: SIM115
        recorder.apply(
            {"dir": str(out_dir), "audio": "keep", "live": live, "quiet": True, "file": None,
             "mapped": False}
        )  # fmt: skip
        state = ConnectionLog(conn="c1", t_open=1.0)
        record = open_record("c1", 1.0, "ws://127.0.0.1/v1/realtime?model=bench", [], [], 101)
        await recorder.begin(state, "bench", record)
        recorder.message(state, 1.5, False, harness.SESSION_CREATED, True)
        message = recorder.message
        start = time.process_time()
        for i, data in enumerate(messages):
            message(state, 2.0 + i * 1e-3, True, data, True)
        spent = time.process_time() - start
        await recorder.done()
        return spent

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=20_000)
    p.add_argument("--sizes", default="200,4096")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="2 000 messages, 1 repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.messages, args.repeats = 2_000, 1
    c.banner("the writer process's CPU per message, fed from a file (writer, not proxy)")
    print(f"   {args.messages} messages per run, median of {args.repeats} runs\n")
    print("     size  live   writer µs/msg   inline µs/msg   hand-off µs/msg")
    for size in (int(s) for s in args.sizes.split(",")):
        messages = [harness.client_event(size, i) for i in range(args.messages)]
        for live in (False, True):
            writer, inline = [], []
            for _ in range(args.repeats):
                with tempfile.TemporaryDirectory(prefix="rtscope-bench-") as tmp:
                    work = Path(tmp)
                    empty = writer_seconds(_stream(work / "e", live, []))
                    full = writer_seconds(_stream(work / "f", live, messages))
                    writer.append((full - empty) / len(messages) * 1e6)
                    inline.append(inline_seconds(work / "i", live, messages) / len(messages) * 1e6)
            w, i = c.median(writer), c.median(inline)
            print(
                f"   {size:>6}  {'on ' if live else 'off'}  {w:>14.1f}  {i:>14.1f}  {w - i:>16.1f}",
                flush=True,
            )
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
