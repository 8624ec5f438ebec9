"""The recorder's live path in a tight loop: µs per bulk message of a valid voice session.

``rtscope record`` runs the analyzers on every message. This feeds the recorder's real records
(``message_records``'s second value, built from ``harness.py``'s 4 KB audio appends, 4 KB audio
deltas and 200 B transcript deltas, after ``harness.SESSION_CREATED`` and the opening events of
the response the deltas belong to: a VALID session, no finding) through the live path the hook
runs (``Recorder._feed_live``), and, for reference, through the engine alone
(``LiveAnalyzer.feed``). Each repeat starts a fresh analyzer; the figure is the minimum over the
repeats (the least disturbed run on a shared machine), per message kind and for the mix.

``--instructions`` counts instead, load-independently, the instructions each bulk record costs
(valgrind's callgrind, instrumentation switched on around the timed loop only, through a tiny C
helper built with the system's C compiler and ``valgrind/callgrind.h``), for this source tree and,
with ``--base-src DIR``, another one (``git archive main | tar -x -C DIR``): before/after.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _common as c  # noqa: E402
import harness  # noqa: E402

from rtscope.analyzers import LiveAnalyzer  # noqa: E402
from rtscope.capture.codec import message_records  # noqa: E402
from rtscope.proxy.addon import Recorder  # noqa: E402
from rtscope.proxy.connection import ConnectionLog  # noqa: E402
from rtscope.proxy.live import LiveFindings  # noqa: E402

RESPONSE = "resp_BENCH1"
CONN = "bench"
KINDS = {
    "append 4K": lambda i: (True, harness.client_event(4096, i)),
    "audio delta 4K": lambda i: (False, harness.server_event(4096, i, response=RESPONSE)),
    "transcript 200B": lambda i: (False, harness.server_event(200, i, response=RESPONSE)),
}


class _Stream:
    """Records as the recorder builds them: one seq per connection, times 1 ms apart."""

    def __init__(self) -> None:
        self.seq = 0
        self.t = 1_700_000_000.0

    def plain(self, from_client: bool, payload: bytes) -> dict[str, Any]:
        self.seq += 1
        self.t += 0.001
        _, plain = message_records(CONN, self.seq, self.t, from_client, payload, True)
        return plain


def records(mix: list[str], n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(preamble, bulk): the session's opening records and ``n`` bulk records cycling ``mix``."""
    s = _Stream()
    opening, _ = harness.response_events(RESPONSE)
    pre = [{"kind": "open", "conn": CONN, "t": s.t, "url": "ws://bench/v1/realtime", "status": 101}]
    pre += [s.plain(False, p) for p in [harness.SESSION_CREATED, *opening]]
    makers = [KINDS[k] for k in mix]
    # a small pool of payloads (payload building is not what is measured)
    pool = [[make(i) for i in range(64)] for make in makers]
    bulk = [s.plain(*pool[i % len(pool)][(i // len(pool)) % 64]) for i in range(n)]
    return pre, bulk


def _live_path() -> tuple[Callable[[dict[str, Any]], None], Callable[[], int]]:
    found: list[str] = []
    recorder = Recorder(out=None, err=None)
    recorder.live = LiveFindings(LiveAnalyzer(), found.append)
    state = ConnectionLog(conn=CONN, t_open=0.0)
    feed_live = recorder._feed_live

    def feed(record: dict[str, Any]) -> None:
        feed_live(state, record)

    return feed, lambda: len(found)


def _engine() -> tuple[Callable[[dict[str, Any]], None], Callable[[], int]]:
    found: list[Any] = []
    analyzer = LiveAnalyzer()

    def feed(record: dict[str, Any]) -> None:
        found.extend(analyzer.feed(record))

    return feed, lambda: len(found)


PATHS = {"recorder live path": _live_path, "engine only": _engine}


def measure(
    make: Callable[[], tuple[Callable[[dict[str, Any]], None], Callable[[], int]]],
    pre: list[dict[str, Any]],
    bulk: list[dict[str, Any]],
    repeats: int,
) -> tuple[float, int]:
    """(min µs per bulk record over ``repeats``, findings in the bulk)."""
    best = float("inf")
    findings = 0
    clock = time.perf_counter
    for _ in range(repeats):
        feed, count = make()
        for r in pre:
            feed(r)
        before = count()
        start = clock()
        for r in bulk:
            feed(r)
        best = min(best, clock() - start)
        findings = count() - before
    return best / len(bulk) * 1e6, findings


_HELPER = r"""
#include <valgrind/callgrind.h>
void lp_on(void) { CALLGRIND_START_INSTRUMENTATION; }
void lp_off(void) { CALLGRIND_STOP_INSTRUMENTATION; }
"""


def child(path: str, mix: str, n: int, helper: str) -> None:
    """Under callgrind: feed the preamble, then ``n`` bulk records with instrumentation on."""
    lib = ctypes.CDLL(helper)
    mixes = {name: [name] for name in KINDS} | {"mix": list(KINDS)}
    pre, bulk = records(mixes[mix], n)
    feed, _ = PATHS[path]()
    for r in pre:
        feed(r)
    for r in bulk[:200]:  # warm: first use of each code path
        feed(r)
    bulk = bulk[200:]
    lib.lp_on()
    for r in bulk:
        feed(r)
    lib.lp_off()


def instructions(n: int, base_src: Path | None) -> int:
    if not shutil.which("valgrind") or not shutil.which("cc"):
        print("valgrind and a C compiler are needed for --instructions")
        return 2
    c.banner("the recorder's live path: instructions per bulk record (callgrind)")
    trees = {"this tree": Path(__file__).resolve().parent.parent / "src"}
    if base_src is not None:
        trees["base"] = base_src.resolve() / "src"
    with tempfile.TemporaryDirectory() as tmp:
        helper = Path(tmp) / "lp.so"
        src = Path(tmp) / "lp.c"
        src.write_text(_HELPER)
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(helper), str(src)], check=True)
        print(f"   {'records':18} {'path':20} " + " ".join(f"{t:>12}" for t in trees))
        for mix in [*KINDS, "mix"]:
            for path in PATHS:
                cells = []
                for src_dir in trees.values():
                    out = Path(tmp) / "cg.out"
                    cmd = [
                        "valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={out}", sys.executable, __file__, "--child",
                        path, mix, str(n + 200), str(helper),
                    ]  # fmt: skip
                    env = {**os.environ, "PYTHONPATH": str(src_dir)}
                    subprocess.run(cmd, check=True, env=env, capture_output=True)
                    text = out.read_text(errors="replace")
                    m = re.search(r"^totals:\s+(\d+)", text, re.MULTILINE)
                    cells.append(f"{int(m.group(1)) / n:>12,.0f}" if m else f"{'?':>12}")
                print(f"   {mix:18} {path:20} " + " ".join(cells), flush=True)
    print(f"   (Ir per bulk record, {n} records after 200 warm-up ones; {c.load()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=None, help="bulk records per run")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--instructions", action="store_true", help="count Ir under callgrind")
    p.add_argument("--base-src", type=Path, help="with --instructions: also this source tree")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        path, mix, n, helper = args.child
        child(path, mix, int(n), helper)
        return 0
    if args.instructions:
        return instructions(args.messages or 3000, args.base_src)
    args.messages = args.messages or 30000
    c.banner("the recorder's live path per bulk message, tight loop (min of repeats)")
    mixes = {name: [name] for name in KINDS} | {"mix (1:1:1)": list(KINDS)}
    print(f"   {'records':18} {'path':20} {'µs/msg':>8} {'findings':>9}")
    for mname, mix in mixes.items():
        pre, bulk = records(mix, args.messages)
        for pname, make in PATHS.items():
            us, found = measure(make, pre, bulk, args.repeats)
            print(f"   {mname:18} {pname:20} {us:8.2f} {found:>9}", flush=True)
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
