"""Target 1: recording throughput (msg/s) and proxy CPU per message, against same-run baselines.

Candidates (each in its own process, all started once, measured in interleaved rounds):
direct client↔server, bare ``mitmdump`` in reverse mode, ``mitmdump -s <rtscope addon>``, and
``rtscope record``. For each message size (200 B, 4 KB) and direction (client→server,
server→client) every round measures every candidate once, in a rotating order; the printed figure
is the median over rounds, the ratio is the median of the per-round ratios to bare mitmdump.
By default it also runs ``rtscope record --no-live`` (what live analysis costs) and the ceiling
of an embedded proxy: mitmproxy with the same lean addon set as ``rtscope record`` but no recorder
(``lean_proxy.py``); ``--only`` picks candidates by kind (direct, mitmdump, addon, record,
record-nolive, lean).

Targets (issue 6): ``rtscope record`` ≥ 1.8× bare mitmdump msg/s; ``mitmdump -s`` addon costs
≤ 8 % of bare mitmdump's msg/s (ratio ≥ 0.92).

    python bench/proxy_throughput.py [--rounds 5] [--seconds 2] [--sizes 200,4096] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict

import _common as c
import harness

TARGETS = {"rtscope record": ("≥", 1.8), "mitmdump -s addon": ("≥", 0.92)}
DEFAULT_ONLY = "direct,mitmdump,addon,addon-inline,record,record-inline,record-nolive,lean"
DIRECTIONS = {"c→s": harness.client_to_server, "s→c": harness.server_to_client}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0, help="sending time per measurement")
    p.add_argument("--sizes", default="200,4096")
    p.add_argument("--only", default=DEFAULT_ONLY, help="comma list of candidate kinds to run")
    p.add_argument("--quick", action="store_true", help="1 round of 0.3 s (smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 1, 0.3
    sizes = [int(s) for s in args.sizes.split(",")]
    cands = c.candidates(args.only.split(",") if args.only else None)

    c.banner("proxy throughput: messages/s through each candidate (target 1)")
    for cand in cands:
        if not cand.available:
            print(f"   {cand.name}: not available ({cand.reason})")
    live = [x for x in cands if x.available]
    rate: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    cpu: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    ratio: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    with c.workdir() as work:
        proxies = c.start_proxies(live, work)
        try:
            for r in range(args.rounds):
                for size in sizes:
                    for dname, fn in DIRECTIONS.items():
                        order = live[r % len(live) :] + live[: r % len(live)]
                        this_round: dict[str, float] = {}
                        for cand in order:
                            proc = proxies.proc(cand)
                            before = c.cpu_seconds(proc)
                            res = asyncio.run(fn(proxies.url(cand), size, args.seconds))
                            used = c.cpu_seconds(proc) - before
                            key = (cand.name, size, dname)
                            rate[key].append(res.rate)
                            if proc is not None:
                                cpu[key].append(used / res.messages * 1e6)
                            this_round[cand.name] = res.rate
                        base = this_round.get("mitmdump")
                        for name, value in this_round.items():
                            if base:
                                ratio[(name, size, dname)].append(value / base)
                print(f"   round {r + 1}/{args.rounds} done · {c.load()}", flush=True)
        finally:
            proxies.stop()

    w = c.name_width(live)
    print()
    print(f"   {'size':>6} {'dir':4} {'candidate':{w}} {'msg/s (median)':>15} {'min–max':>16}"
          f" {'CPU µs/msg':>11} {'× mitmdump':>11}  target")  # fmt: skip
    verdicts = []
    for size in sizes:
        for dname in DIRECTIONS:
            for cand in live:
                key = (cand.name, size, dname)
                rx = c.median(ratio[key]) if ratio[key] else float("nan")
                cpu_txt = f"{c.median(cpu[key]):,.0f}" if cpu[key] else "-"
                target = ""
                if cand.name in TARGETS and ratio[key]:
                    op, want = TARGETS[cand.name]
                    ok = rx >= want
                    target = f"{op}{want} {'met' if ok else 'NOT met'}"
                    verdicts.append(ok)
                print(
                    f"   {size:>6} {dname:4} {cand.name:{w}} {c.median(rate[key]):>15,.0f}"
                    f" {c.spread(rate[key]):>16} {cpu_txt:>11} {rx:>10.2f}×  {target}"
                )
    for cand in cands:
        if not cand.available and cand.name in TARGETS:
            op, want = TARGETS[cand.name]
            print(f"   {cand.name}: not available — target {op}{want}× bare mitmdump not measured")
    print(f"   ({args.rounds} rounds × {args.seconds:g} s per measurement · {c.load()})")
    return 0 if all(verdicts) or not verdicts else 1


if __name__ == "__main__":
    sys.exit(main())
