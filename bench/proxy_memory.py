"""Target 3: the recorder's memory over one long connection, and under a burst.

1. One connection carries ``--messages`` 4 KB events (half client→server
   ``input_audio_buffer.append``, half server→client ``response.output_audio.delta``, in chunks
   of 2 000): the proxy's RSS is sampled every 0.25 s; growth = RSS at the end − RSS after the
   first chunk (warm-up).
   180 000 messages ≈ a 60-minute audio session (``--full``); the default run carries 30 000 and
   prints the growth per 10 000 messages so the trend is visible.
2. Burst: the server sends ``--burst`` 4 KB events as fast as it can (no flow-control window)
   while the client reads them as fast as it can; the proxy's peak RSS growth shows whether it
   buffers the whole burst (unbounded) or holds back the sender (bounded).

Bare mitmdump is measured too, as the reference (it keeps every message of a live flow);
``--only …,record-nobp`` adds ``rtscope record`` with its backpressure off (the burst's A/B).

Target (issue 6): growth ≤ 10 MB over 180 000 messages; bounded under a burst.

    python bench/proxy_memory.py [--messages 30000] [--burst 20000] [--full] [--quick]
    python bench/proxy_memory.py --burst-only --burst-rounds 3 --only record,record-nobp
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import _common as c
import harness

TARGET_MB = 10.0
#: the candidates judged on target 3: both writers of `rtscope record` and of the addon
JUDGED = ("record", "record-inline", "addon", "addon-inline")
SIZE = 4096
#: "Bounded" under a burst: the peak growth stays under 16 MiB or 20 % of the burst's bytes (a proxy
#: that holds the sender back buffers a few socket buffers' worth; one that reads ahead of its
#: relaying grows with the burst, ~100 % of it).
BURST_FLOOR = 16 * 2**20
BURST_SHARE = 0.2


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=30_000)
    p.add_argument("--burst", type=int, default=20_000)
    p.add_argument("--only", default="mitmdump,addon,addon-inline,record,record-inline")
    p.add_argument("--full", action="store_true", help="180 000 messages, 50 000-message burst")
    p.add_argument("--quick", action="store_true", help="4 000 messages, 2 000-message burst")
    p.add_argument("--burst-only", action="store_true", help="skip the long connection")
    p.add_argument(
        "--burst-rounds", type=int, default=1, help="bursts per candidate, interleaved (A/B)"
    )
    args = p.parse_args(argv)
    if args.full:
        args.messages, args.burst = 180_000, 50_000
    if args.quick:
        args.messages, args.burst = 4_000, 2_000
    cands = c.candidates(args.only.split(","))
    c.banner(f"proxy memory: one connection × {args.messages:,} messages of 4 KB (target 3)")
    for cand in cands:
        if not cand.available:
            print(f"   {cand.name}: not available ({cand.reason})")
    live = [x for x in cands if x.available]
    w = c.name_width(live)
    ok = True
    print(
        f"   {'candidate':{w}} {'RSS start':>12} {'RSS end':>12} {'growth':>12} {'per 10k msg':>12}"
    )
    with c.workdir() as work:
        for cand in [] if args.burst_only else live:
            proxies = c.start_proxies([cand], work / cand.kind)
            try:
                proc = proxies.proc(cand)
                assert proc is not None
                marks: list[int] = []

                def progress(done: int, proc: object = proc, marks: list[int] = marks) -> None:
                    if not marks:
                        marks.append(c.rss(proc))  # type: ignore[arg-type]

                with c.RssSampler(proc) as sampler:
                    asyncio.run(
                        harness.one_connection_load(
                            proxies.url(cand), SIZE, args.messages, progress
                        )
                    )
                    end = c.rss(proc)
                start = marks[0]
                growth = end - start
                per10k = growth / max(args.messages - 2000, 1) * 10_000
                verdict = ""
                if cand.kind in JUDGED:
                    projected = per10k * 18 / 2**20 if args.messages < 180_000 else growth / 2**20
                    met = projected <= TARGET_MB
                    ok &= met
                    verdict = (
                        f"  → {projected:,.1f} MiB over 180k (target ≤ {TARGET_MB:g} MB:"
                        f" {'met' if met else 'NOT met'})"
                    )
                print(
                    f"   {cand.name:{w}} {c.mib(start):>12} {c.mib(end):>12} {c.mib(growth):>12}"
                    f" {c.mib(per10k):>12}{verdict}  (peak {c.mib(sampler.peak)})",
                    flush=True,
                )
            finally:
                proxies.stop()

        print(f"\n   burst: server sends {args.burst:,} × 4 KB as fast as it can, client reads")
        print(
            f"   {'candidate':{w}} {'RSS idle':>12} {'RSS peak':>12} {'peak growth':>12}"
            f" {'msg/s':>9}"
        )
        runs = [
            (r, cand)
            for r in range(args.burst_rounds)
            for cand in live[r % len(live) :] + live[: r % len(live)]
        ]
        for r, cand in runs:
            proxies = c.start_proxies([cand], work / f"{cand.kind}-burst-{r}")
            try:
                proc = proxies.proc(cand)
                assert proc is not None
                # settle: a proxy listens before it is done starting (a writer process, lazy
                # imports); its start-up is not the burst's
                time.sleep(1.0)
                idle = c.rss(proc)
                with c.RssSampler(proc, interval=0.1) as sampler:
                    res = asyncio.run(harness.burst(proxies.url(cand), SIZE, args.burst))
                growth = sampler.peak - idle
                share = growth / (args.burst * SIZE)
                verdict = ""
                if cand.kind in JUDGED:
                    met = growth <= max(BURST_FLOOR, BURST_SHARE * args.burst * SIZE)
                    ok &= met
                    verdict = "  bounded: met" if met else "  bounded: NOT met (buffers the burst)"
                print(
                    f"   {cand.name:{w}} {c.mib(idle):>12} {c.mib(sampler.peak):>12}"
                    f" {c.mib(growth):>12} {res.rate:>9,.0f}"
                    f"  ({share:.0%} of the burst's {c.mib(args.burst * SIZE)}){verdict}",
                    flush=True,
                )
            finally:
                proxies.stop()
    for cand in cands:
        if not cand.available and cand.kind in ("record", "addon"):
            print(f"   {cand.name}: not available — memory target not measured")
    print(f"   ({c.load()})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
