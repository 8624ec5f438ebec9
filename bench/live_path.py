"""The recorder's live path in a tight loop: what live analysis adds per bulk message.

``rtscope record`` runs the analyzers on every message. This runs the recorder's real
``websocket_message`` hook (on a mitmproxy test flow, its capture lines going to a null sink, so
the disk is not measured) over ``harness.py``'s 4 KB audio appends, 4 KB audio deltas and 200 B
transcript deltas, after ``harness.SESSION_CREATED`` and the opening events of the response the
deltas belong to (a VALID session: the path real traffic takes), once with live analysis on and
once with it off; the difference is the live path. For reference, the engine alone
(``LiveAnalyzer.feed`` of the records the hook builds). Each repeat starts a fresh recorder; the
figure is the minimum over the repeats (the least disturbed run on a shared machine), per message
kind and for the mix.

``--instructions`` counts instead, load-independently, the instructions each bulk message costs
(valgrind's callgrind, instrumentation switched on around the loop only, through a tiny C helper
built with the system's C compiler and ``valgrind/callgrind.h``), for this source tree and, with
``--base-src DIR``, another one (``git archive main | tar -x -C DIR``): before/after.

    .venv/bin/python bench/live_path.py [--messages 30000] [--repeats 7]
    .venv/bin/python bench/live_path.py --instructions [--messages 3000] [--base-src DIR]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _common as c  # noqa: E402
import harness  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

from rtscope.analyzers import LiveAnalyzer  # noqa: E402
from rtscope.capture.codec import message_records  # noqa: E402
from rtscope.proxy.addon import Recorder  # noqa: E402
from rtscope.proxy.connection import ConnectionLog  # noqa: E402
from rtscope.proxy.live import LiveFindings  # noqa: E402

RESPONSE = "resp_BENCH1"
T0 = 1_700_000_000.0
KINDS = {
    "append 4K": lambda i: (True, harness.client_event(4096, i)),
    "audio delta 4K": lambda i: (False, harness.server_event(4096, i, response=RESPONSE)),
    "transcript 200B": lambda i: (False, harness.server_event(200, i, response=RESPONSE)),
}
MIXES = {name: [name] for name in KINDS} | {"mix 1:1:1": list(KINDS)}

Message = tuple[bool, bytes, float]  # from_client, payload, time


def messages(mix: list[str], n: int) -> tuple[list[Message], list[Message]]:
    """(preamble, bulk): the session's opening messages and ``n`` bulk ones cycling ``mix``,
    1 ms apart."""
    opening, _ = harness.response_events(RESPONSE)
    pre = [(False, p, T0 + i * 0.001) for i, p in enumerate([harness.SESSION_CREATED, *opening])]
    # a small pool of payloads (building payloads is not what is measured)
    pool = [[make(i) for i in range(64)] for make in (KINDS[k] for k in mix)]
    t = T0 + len(pre) * 0.001
    bulk = [(*pool[i % len(pool)][(i // len(pool)) % 64], t + i * 0.001) for i in range(n)]
    return pre, bulk


class _NullSink:
    """Stands for the capture file: the disk is not what is measured."""

    path = Path("null")

    def write(self, line: bytes) -> None:
        pass

    def close(self) -> None:
        pass


Feed = Callable[[Any], None]
Setup = Callable[[list[Message]], tuple[Feed, list[Any], Callable[[], int]]]


def _hook(live: bool) -> Setup:
    """The recorder's ``websocket_message`` (live analysis on or off) over a test flow."""

    def setup(msgs: list[Message]) -> tuple[Feed, list[Any], Callable[[], int]]:
        found: list[str] = []
        recorder = Recorder(out=None, err=None)
        if live:
            recorder.live = LiveFindings(LiveAnalyzer(), found.append)
        flow = tflow.twebsocketflow(messages=False)
        flow.websocket.messages = []
        state = ConnectionLog(conn="bench", t_open=T0)
        state.sink = _NullSink()  # type: ignore[assignment]
        recorder._conns[flow.id] = state
        if live:
            recorder._feed_live(state, {"kind": "open", "conn": "bench", "t": T0, "status": 101})
        flow_messages = flow.websocket.messages
        hook = recorder.websocket_message

        def feed(message: Any) -> None:
            flow_messages.append(message)
            hook(flow)

        items = [WebSocketMessage(Opcode.TEXT, fc, p, timestamp=t) for fc, p, t in msgs]
        return feed, items, lambda: len(found)

    return setup


def _engine(msgs: list[Message]) -> tuple[Feed, list[Any], Callable[[], int]]:
    """``LiveAnalyzer.feed`` of the records the hook builds (``message_records``'s second)."""
    found: list[Any] = []
    analyzer = LiveAnalyzer()
    analyzer.feed({"kind": "open", "conn": "bench", "t": T0, "status": 101})

    def feed(record: dict[str, Any]) -> None:
        found.extend(analyzer.feed(record))

    items = [
        message_records("bench", seq, t, fc, p, True)[1] for seq, (fc, p, t) in enumerate(msgs)
    ]
    return feed, items, lambda: len(found)


PATHS: dict[str, Setup] = {
    "hook, live": _hook(True),
    "hook, no live": _hook(False),
    "engine": _engine,
}


def measure(
    setup: Setup, pre: list[Message], bulk: list[Message], repeats: int
) -> tuple[float, int]:
    """(min µs per bulk message over ``repeats``, findings in the bulk)."""
    best = float("inf")
    findings = 0
    clock = time.perf_counter
    for _ in range(repeats):
        feed, items, count = setup(pre + bulk)
        for item in items[: len(pre)]:
            feed(item)
        before = count()
        todo = items[len(pre) :]
        start = clock()
        for item in todo:
            feed(item)
        best = min(best, clock() - start)
        findings = count() - before
    return best / len(bulk) * 1e6, findings


_HELPER = r"""
#include <valgrind/callgrind.h>
void lp_on(void) { CALLGRIND_START_INSTRUMENTATION; }
void lp_off(void) { CALLGRIND_STOP_INSTRUMENTATION; }
"""


def child(path: str, mix: str, n: int, helper: str) -> None:
    """Under callgrind: the preamble and 200 warm-up messages, then ``n`` with instrumentation
    on."""
    lib = ctypes.CDLL(helper)
    pre, bulk = messages(MIXES[mix], n + 200)
    feed, items, _ = PATHS[path](pre + bulk)
    for item in items[: len(pre) + 200]:
        feed(item)
    todo = items[len(pre) + 200 :]
    lib.lp_on()
    for item in todo:
        feed(item)
    lib.lp_off()


def _count(helper: Path, src_dir: Path, path: str, mix: str, n: int, tmp: Path) -> float:
    out = tmp / "cg.out"
    cmd = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
        sys.executable, __file__, "--child", path, mix, str(n), str(helper),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(src_dir)}
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    m = re.search(r"^totals:\s+(\d+)", out.read_text(errors="replace"), re.MULTILINE)
    if m is None:
        raise RuntimeError(f"no totals in {out}")
    return int(m.group(1)) / n


def instructions(n: int, base_src: Path | None, mixes: list[str]) -> int:
    if not shutil.which("valgrind") or not shutil.which("cc"):
        print("valgrind and a C compiler are needed for --instructions")
        return 2
    c.banner("the recorder's live path: instructions per bulk message (callgrind)")
    trees = {"this tree": Path(__file__).resolve().parent.parent / "src"}
    if base_src is not None:
        trees["base"] = base_src.resolve() / "src"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        helper = tmp / "lp.so"
        (tmp / "lp.c").write_text(_HELPER)
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(helper), str(tmp / "lp.c")])
        print(f"   {'messages':16} {'tree':10} {'hook, live':>11} {'no live':>11} {'live path':>11}"
              f" {'engine':>11}")  # fmt: skip
        for mix in mixes:
            for tree, src_dir in trees.items():
                ir = {p: _count(helper, src_dir, p, mix, n, tmp) for p in PATHS}
                on, off = ir["hook, live"], ir["hook, no live"]
                print(
                    f"   {mix:16} {tree:10} {on:>11,.0f} {off:>11,.0f}"
                    f" {on - off:>11,.0f} {ir['engine']:>11,.0f}",
                    flush=True,
                )
    print(f"   (Ir per bulk message, {n} after 200 warm-up ones; live path = hook, live − no live)")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=None, help="bulk messages per run")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--mix", default=",".join(MIXES), help="which of: " + ", ".join(MIXES))
    p.add_argument("--instructions", action="store_true", help="count Ir under callgrind")
    p.add_argument("--base-src", type=Path, help="with --instructions: also this source tree")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        path, mix, n, helper = args.child
        child(path, mix, int(n), helper)
        return 0
    mixes = args.mix.split(",")
    if args.instructions:
        return instructions(args.messages or 3000, args.base_src, mixes)
    n = args.messages or 30000
    c.banner("the recorder's live path per bulk message, tight loop (min of repeats)")
    print(f"   {'messages':16} {'hook, live':>11} {'no live':>11} {'live path':>11} {'engine':>11}"
          f" {'findings':>9}")  # fmt: skip
    for mix in mixes:
        pre, bulk = messages(MIXES[mix], n)
        us: dict[str, float] = {}
        found = 0
        for name, setup in PATHS.items():
            us[name], f = measure(setup, pre, bulk, args.repeats)
            found = max(found, f)
        live = us["hook, live"] - us["hook, no live"]
        print(
            f"   {mix:16} {us['hook, live']:11.2f} {us['hook, no live']:11.2f} {live:11.2f}"
            f" {us['engine']:11.2f} {found:>9}",
            flush=True,
        )
    print(f"   (µs per bulk message, {n} per run; live path = hook, live − no live; {c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
