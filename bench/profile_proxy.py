"""Profile a proxy candidate under load with py-spy: where its CPU goes per message.

Starts the server and one candidate, drives ``--seconds`` of one-way load through it (the same
client as proxy_throughput.py) while ``py-spy record --gil --format raw`` samples the proxy
process (``--gil``: only the thread holding the GIL counts, so an idle worker thread does not show
as busy), then prints the functions with the most samples: by self time (where the CPU is burnt)
and by total time (which call paths cost), as a share of all samples. ``pip install py-spy``
first (it needs ptrace rights over its child processes; root or the same user usually has them).

    python bench/profile_proxy.py [--candidate record|record-nolive|record-mapped|…|lean|addon]
                                  [--size 4096] [--direction c2s|s2c] [--seconds 8] [--top 25]
                                  [--focus Recorder.websocket_message]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import _common as c
import harness


def load_forever(url: str, size: int, direction: str, seconds: float) -> None:
    fn = harness.client_to_server if direction == "c2s" else harness.server_to_client
    asyncio.run(fn(url, size, seconds))


def summarize(raw: Path, top: int, focus: str = "") -> str:
    """Self and total sample shares per function from py-spy's collapsed-stack output.

    With ``focus`` (a function name, e.g. ``Recorder.websocket_message``), also the share of each
    function called (directly or not) under it: where that function's time goes.
    """
    self_count: Counter[str] = Counter()
    total_count: Counter[str] = Counter()
    under: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        if frames and frames[0].startswith(("process ", "thread ")):
            frames = frames[1:]
        samples += count
        if not frames:
            continue
        self_count[_short(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            total_count[name] += count
        names = [_short(f) for f in frames]
        at = next((i for i, n in enumerate(names) if n.startswith(focus + " ")), -1)
        if focus and at >= 0:
            for name in set(names[at:]):
                under[name] += count
    out = [f"   {samples} samples"]
    out.append("   self (where CPU is spent):")
    out += [f"   {n / samples:6.1%}  {name}" for name, n in self_count.most_common(top)]
    out.append("   total (including callees):")
    out += [f"   {n / samples:6.1%}  {name}" for name, n in total_count.most_common(top)]
    if focus:
        out.append(f"   under {focus} (including callees):")
        out += [f"   {n / samples:6.1%}  {name}" for name, n in under.most_common(top)]
    return "\n".join(out)


def _short(frame: str) -> str:
    # "websocket_message (rtscope/proxy/addon.py:312)" → keep the function and the file tail
    name, _, where = frame.partition(" (")
    path = where.rstrip(")")
    tail = "/".join(Path(path.split(":")[0]).parts[-2:])
    return f"{name} ({tail})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--candidate",
        default="record",
        choices=[
            "record",
            "record-nolive",
            "record-mapped",
            "record-nolive-mapped",
            "lean",
            "addon",
            "addon-mapped",
            "mitmdump",
        ],  # fmt: skip
    )
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--direction", default="c2s", choices=["c2s", "s2c"])
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--focus", default="", help="also break down this function's time")
    args = p.parse_args(argv)
    pyspy = shutil.which("py-spy") or str(c.BIN / "py-spy")
    if not Path(pyspy).exists():
        print("py-spy is not installed: pip install py-spy")
        return 2
    cand = next(x for x in c.candidates([args.candidate]))
    if not cand.available:
        print(f"{cand.name}: not available ({cand.reason})")
        return 2
    c.banner(f"profile of {cand.name}: {args.size} B {args.direction} for {args.seconds:g} s")
    with c.workdir() as work:
        proxies = c.start_proxies([cand], work)
        try:
            url = proxies.url(cand)
            raw = work / "profile.txt"
            spy = subprocess.Popen(
                [pyspy, "record", "--gil", "--format", "raw", "--rate", str(args.rate),
                 "-o", str(raw), "-d", str(int(args.seconds)),
                 "-p", str(proxies.running[cand.name].pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            loader = threading.Thread(
                target=load_forever, args=(url, args.size, args.direction, args.seconds + 1.0)
            )
            loader.start()
            _, err = spy.communicate(timeout=args.seconds + 60)
            loader.join()
            if spy.returncode != 0 or not raw.exists():
                print(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')[-500:]}")
                return 3
            print(summarize(raw, args.top, args.focus))
        finally:
            proxies.stop()
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
