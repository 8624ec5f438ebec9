"""What a growing page cache costs each append: ``CaptureWriter`` with and without drop-behind.

Writes 4 KB lines through :class:`rtscope.capture.CaptureWriter` (one ``write(2)`` each, as
``rtscope record`` does) into a new capture in ``--dir``, in blocks of ``--block`` MB, and prints
the wall and CPU µs per line of each block: once with drop-behind (the default: every 1 MiB a
worker asks the kernel to drop what was written back), once without (``RTSCOPE_DROP_BEHIND=0``),
each in its own process, in alternating order, ``--rounds`` times. Each capture is deleted after
its run.

On a virtual machine whose freed memory goes back to the host (free page reporting, ballooning),
the line costs more once the page cache grows into memory the guest has not touched lately; how
much depends on what the machine did before (a file just deleted leaves pages to reuse). On
bare metal both should print the same.

    python bench/page_cache_writes.py [--blocks 8] [--block 100] [--rounds 2] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c

LINE = b'{"kind":"msg","pad":"' + b"x" * 4072 + b'"}\n'  # 4 KiB with its newline

CHILD = """
import os, sys, time
from rtscope.capture import CaptureWriter
path, blocks, per_block = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
line = sys.argv[4].encode()
writer = CaptureWriter(path)
for b in range(blocks):
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(per_block):
        writer.write_line(line)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{wall / per_block * 1e6:.2f} {cpu / per_block * 1e6:.2f}", flush=True)
writer.close()
"""


def one_run(directory: Path, drop: bool, blocks: int, per_block: int) -> list[tuple[float, float]]:
    fd, name = tempfile.mkstemp(prefix="rtscope-pagecache-", suffix=".jsonl", dir=directory)
    os.close(fd)
    os.unlink(name)  # CaptureWriter creates it (never overwrites)
    env = {**os.environ, "RTSCOPE_DROP_BEHIND": "1" if drop else "0"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, name, str(blocks), str(per_block), LINE.decode()],
            capture_output=True, text=True, env=env, check=True, timeout=1800,
        )  # fmt: skip
    finally:
        Path(name).unlink(missing_ok=True)
    return [
        (float(a), float(b)) for a, b in (row.split() for row in done.stdout.split("\n") if row)
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, default=8)
    p.add_argument("--block", type=float, default=100.0, help="MB per block")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--quick", action="store_true", help="2 blocks of 4 MB, 1 round")
    args = p.parse_args(argv)
    if args.quick:
        args.blocks, args.block, args.rounds = 2, 4.0, 1
    per_block = max(1, int(args.block * 1e6 / len(LINE)))
    c.banner("appending 4 KB lines to a growing capture: drop-behind on and off")
    print(f"   {args.blocks} blocks of {per_block:,} lines ({args.block:g} MB) in {args.dir}")
    print(f"   {'run':24} µs per line, wall / CPU, block by block")
    for r in range(args.rounds):
        for drop in (True, False) if r % 2 == 0 else (False, True):
            rows = one_run(args.dir, drop, args.blocks, per_block)
            label = f"round {r + 1}, {'drop-behind' if drop else 'keep cache'}"
            cells = "  ".join(f"{w:.1f}/{cpu:.1f}" for w, cpu in rows)
            print(f"   {label:24} {cells}", flush=True)
    print(f"   · {c.load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
