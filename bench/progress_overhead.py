"""What a progress bar costs the long commands: wall time with the bar drawn vs not.

Builds a capture of ``--mb`` megabytes (copies of a recorded audio session, each under its own
connection id) in a temp directory, then runs ``rtscope analyze``, ``export --har`` and
``report`` on it in subprocesses, ``--runs`` times each, with ``RTSCOPE_PROGRESS=0`` (no bar,
the default when stderr is not a terminal) and ``RTSCOPE_PROGRESS=1`` (bar drawn to a pipe).
Prints the best time of each and the difference. The bar moves per 64 KiB read, never per
record, so the difference should stay within run-to-run noise.

    .venv/bin/python bench/progress_overhead.py [--mb 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "tests" / "fixtures" / "captures" / "ga-runaway-audio.jsonl"


def build(path: Path, megabytes: float) -> int:
    lines = SOURCE.read_bytes().splitlines(keepends=True)
    header = [line for line in lines if b'"kind":"header"' in line.replace(b" ", b"")][:1]
    body = [line for line in lines if line not in header]
    copies = 0
    with open(path, "wb") as out:
        out.writelines(header)
        while out.tell() < megabytes * 1e6:
            copies += 1
            for line in body:
                out.write(line.replace(b'"conn":"', b'"conn":"%d-' % copies, 1))
    return copies


def best(args: list[str], progress: str, runs: int) -> float:
    env = {**os.environ, "RTSCOPE_PROGRESS": progress}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rtscope", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "big.jsonl"
        copies = build(capture, opts.mb)
        size = capture.stat().st_size
        print(f"capture: {size / 1e6:.1f} MB, {copies} connections; best of {opts.runs} runs")
        commands = {
            "analyze": ["analyze", str(capture), "--fail-on", "never"],
            "export --har": ["export", str(capture), "--har", str(Path(tmp) / "out.har")],
            "report": ["report", str(capture), "-o", str(Path(tmp) / "r.html")],
        }
        print(f"{'command':<14} {'no bar':>8} {'bar':>8} {'diff':>8}")
        for name, args in commands.items():
            off = best(args, "0", opts.runs)
            on = best(args, "1", opts.runs)
            print(f"{name:<14} {off:>7.2f}s {on:>7.2f}s {100 * (on - off) / off:>+7.1f}%")


if __name__ == "__main__":
    main()
