"""Target 6 (recorder side): proxy CPU per message as concurrent sessions grow (1, 10, 50).

Each session is one echo connection where the client sends a 4 KB audio event ``--rate`` times a
second (spread over the period so sessions don't fire together) and gets it back: every message
crosses the proxy twice, like audio in and audio out of a voice session. The figure is the
proxy's CPU time (user+system, psutil) divided by the messages it relayed, plus its share of one
CPU and how far the worst scheduled send fell behind (the load generator's own health). "offered"
is the message rate the sessions ask for (both ways); "relayed" below it means the proxy fell
behind (the run then lasts longer than ``--seconds`` while it catches up).

    python bench/proxy_sessions.py [--sessions 1,10,50] [--rate 25] [--seconds 4] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import _common as c
import harness


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", default="1,10,50")
    p.add_argument("--rate", type=float, default=25.0, help="messages/s each session sends")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--only", default="mitmdump,addon,addon-inline,record,record-inline")
    p.add_argument("--quick", action="store_true", help="1 and 3 sessions for 1 s")
    args = p.parse_args(argv)
    if args.quick:
        args.sessions, args.seconds = "1,3", 1.0
    counts = [int(x) for x in args.sessions.split(",")]
    cands = c.candidates(args.only.split(","))
    c.banner(
        f"proxy CPU per message vs concurrent sessions ({args.rate:g} msg/s each way per session,"
        f" {args.size} B) (target 6)"
    )
    for cand in cands:
        if not cand.available:
            print(f"   {cand.name}: not available ({cand.reason})")
    live = [x for x in cands if x.available]
    w = c.name_width(live)
    print(
        f"   {'sessions':>8} {'candidate':{w}} {'offered':>8} {'relayed msg/s':>14}"
        f" {'CPU µs/msg':>11} {'CPU %':>6} {'worst send lag':>15}"
    )
    with c.workdir() as work:
        proxies = c.start_proxies(live, work)
        try:
            for n in counts:
                for cand in live:
                    proc = proxies.proc(cand)
                    before = c.cpu_seconds(proc)
                    res = asyncio.run(
                        harness.concurrent_sessions(
                            proxies.url(cand), n, args.rate, args.seconds, args.size
                        )
                    )
                    used = c.cpu_seconds(proc) - before
                    relayed = res.sent + res.received
                    offered = 2 * n * args.rate
                    print(
                        f"   {n:>8} {cand.name:{w}} {offered:>8,.0f}"
                        f" {relayed / res.seconds:>14,.0f}"
                        f" {used / relayed * 1e6:>11,.0f} {used / res.seconds:>6.0%}"
                        f" {res.behind_max * 1e3:>12,.1f} ms",
                        flush=True,
                    )
        finally:
            proxies.stop()
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
