"""Target 2: round-trip latency at 50 msg/s through each candidate (p50/p99, monotonic clock).

The client sends one event every 20 ms (on a monotonic schedule) to the echo server through the
candidate and times each answer with ``time.perf_counter``. Rounds interleave candidates; p50 is
the median of per-round p50s, p99 is taken over the pooled samples of all rounds (a per-round p99
of a few hundred samples is a single sample). Beside the added p99 of the pooled samples, the
median over rounds of each round's p99 minus bare mitmdump's in the same round: one slow moment
of the machine moves the pooled p99 of the candidate it fell on, not that median.

Target (issue 6): rtscope's added round-trip p99 over bare mitmdump ≤ 50 µs.

    python bench/proxy_latency.py [--rounds 3] [--count 300] [--rate 50] [--size 200] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict

import _common as c
import harness

TARGET_US = 50.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--count", type=int, default=300, help="round trips per measurement")
    p.add_argument("--rate", type=float, default=50.0, help="messages per second")
    p.add_argument("--size", type=int, default=200, help="bytes per message")
    p.add_argument("--only", default="")
    p.add_argument("--quick", action="store_true", help="1 round of 30 round trips")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.count = 1, 30
    cands = c.candidates(args.only.split(",") if args.only else None)
    c.banner(f"round-trip latency at {args.rate:g} msg/s, {args.size} B events (target 2)")
    for cand in cands:
        if not cand.available:
            print(f"   {cand.name}: not available ({cand.reason})")
    live = [x for x in cands if x.available]
    p50s: dict[str, list[float]] = defaultdict(list)
    p99s: dict[str, list[float]] = defaultdict(list)  # per round: 5 samples each of 500
    pooled: dict[str, list[float]] = defaultdict(list)
    late: dict[str, int] = defaultdict(int)
    with c.workdir() as work:
        proxies = c.start_proxies(live, work)
        try:
            for r in range(args.rounds):
                order = live[r % len(live) :] + live[: r % len(live)]
                for cand in order:
                    res = asyncio.run(
                        harness.round_trips(proxies.url(cand), args.size, args.rate, args.count)
                    )
                    us = [x * 1e6 for x in res.rtts]
                    p50s[cand.name].append(c.percentile(us, 50))
                    p99s[cand.name].append(c.percentile(us, 99))
                    pooled[cand.name].extend(us)
                    late[cand.name] += res.late_sends
                print(f"   round {r + 1}/{args.rounds} done · {c.load()}", flush=True)
        finally:
            proxies.stop()

    w = c.name_width(live)
    print()
    print(
        f"   {'candidate':{w}} {'p50 µs':>9} {'p99 µs':>9} {'max µs':>9}"
        f" {'added p99 vs mitmdump':>22} {'(median of rounds)':>19}"
    )
    base99 = c.percentile(pooled["mitmdump"], 99) if pooled.get("mitmdump") else None
    ok = True
    for cand in live:
        values = pooled[cand.name]
        p99 = c.percentile(values, 99)
        added = by_round = ""
        if base99 is not None and cand.name != "mitmdump":
            deltas = [a - b for a, b in zip(p99s[cand.name], p99s["mitmdump"], strict=True)]
            by_round = f"{c.median(deltas):+,.0f} µs"
            delta = p99 - base99
            added = f"{delta:+,.0f} µs"
            if cand.kind in ("record", "addon"):
                met = delta <= TARGET_US
                ok &= met
                added += f"  (target ≤ {TARGET_US:g}: {'met' if met else 'NOT met'})"
        print(
            f"   {cand.name:{w}} {c.median(p50s[cand.name]):>9,.0f} {p99:>9,.0f}"
            f" {max(values):>9,.0f} {added:>22} {by_round:>19}"
        )
    for cand in cands:
        if not cand.available and cand.kind in ("record", "addon"):
            print(f"   {cand.name}: not available — added p99 not measured")
    sends = args.rounds * args.count
    print(
        f"   ({args.rounds} rounds × {args.count} round trips; sends behind schedule: "
        + ", ".join(f"{k} {v}/{sends}" for k, v in late.items())
        + f" · {c.load()})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
