"""Profile ``rtscope analyze`` on a synthetic capture with py-spy: where the time per GB goes.

Runs ``py-spy record --format raw -- rtscope analyze --format json FILE`` and prints the functions
with the most samples, by self time and by total time (see profile_proxy.py for the format).

    python bench/profile_analyze.py [--size 200] [--top 25] [--rate 200] [--synth 1]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import _common as c
import synth
from profile_proxy import summarize


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=float, default=200.0, help="capture size, MB")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument(
        "--synth", type=int, default=synth.GENERATOR_VERSION, choices=synth.VERSIONS,
        help="synthetic capture generator (2: the issue's mix; 1: the first)",
    )  # fmt: skip
    args = p.parse_args(argv)
    pyspy = c.BIN / "py-spy"
    if not pyspy.exists():
        print("py-spy is not installed: pip install py-spy")
        return 2
    path = synth.capture(args.size, version=args.synth)
    c.banner(f"profile of rtscope analyze on synth v{args.synth}: {synth.describe(path)}")
    with c.workdir() as work:
        raw = work / "profile.txt"
        done = subprocess.run(
            [str(pyspy), "record", "--format", "raw", "--rate", str(args.rate), "-o", str(raw),
             "--", str(c.BIN / "rtscope"), "analyze", "--format", "json", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
        if not Path(raw).exists():
            tail = done.stderr.decode(errors="replace")[-500:]
            print(f"py-spy failed ({done.returncode}): {tail}")
            return 3
        print(summarize(raw, args.top))
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
