"""Baseline for target 5: how late a bare asyncio loop wakes up at 50 Hz on this machine.

The same schedule ``rtscope replay --timing original`` keeps (one send every 20 ms against the
event loop's monotonic clock), with nothing to send: p50/p99/max of ``actual − due``. Whatever
replay_lateness.py measures above this is replay's own cost; this much is the machine's.

    python bench/sleep_lateness.py [--rate 50] [--seconds 10] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import _common as c


async def ticks(rate: float, count: int) -> list[float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    late: list[float] = []
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(max(0.0, loop.time() - due))
    return late


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="1 run of 1 s")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 1, 1.0
    c.banner(f"asyncio wake-up lateness at {args.rate:g}/s, nothing else running (target 5 floor)")
    for run in range(args.runs):
        late = [x * 1e3 for x in asyncio.run(ticks(args.rate, int(args.rate * args.seconds)))]
        print(
            f"   run {run + 1}: lateness p50 {c.percentile(late, 50):.2f} ms"
            f"  p99 {c.percentile(late, 99):.2f} ms  max {max(late):.2f} ms · {c.load()}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
