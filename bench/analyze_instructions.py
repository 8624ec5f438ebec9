"""Target 4, load-independent: instructions of ``rtscope analyze`` against the orjson loop.

Wall and CPU time of a half-second process move by ±20 % with this machine's load from one round
to the next; the instructions it executes do not. Each command runs once under ``valgrind
--tool=callgrind`` (~50× slower, hence a 50 MB capture by default), over the same synthetic
capture (``synth.py``, the issue's mix) and over a capture of two records (what start-up costs):

- the target's baseline, ``orjson.loads`` per line with ``open()``'s 8 KiB buffer;
- ``rtscope analyze --format json`` (every rule on), as ``python -m rtscope`` from this checkout or,
  with ``--other-tree DIR``, also from another one (its ``src/`` first on ``PYTHONPATH``: a
  before/after in the same run);
- the capture reader alone (``CaptureReader``, no rules): how the per-record cost divides between
  reading and analysing.

Printed: instructions (callgrind's ``Ir``) per command, start-up (the two-record capture), per
record (the rest, divided by the capture's records), and the ratio ``orjson loop / analyze``
(≥ 1.0 meets the target's speed if cycles followed instructions; they do not exactly: long lines
cost memory bandwidth both ways). Scaled to the 200 MB of the target, start-up weighs 4× less.

    python bench/analyze_instructions.py [--size 50] [--other-tree DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c
import synth

ORJSON_LOOP = (
    "import sys, orjson\nloads=orjson.loads\n"
    "with open(sys.argv[1],'rb') as f:\n    for line in f: loads(line)\n"
)
READER_ONLY = (
    "import sys\nfrom rtscope.capture.reader import CaptureReader\n"
    "for record in CaptureReader(sys.argv[1]): pass\n"
)


def instructions(argv: list[str], env: dict[str, str] | None = None) -> int:
    """``Ir`` of one run of ``argv`` under callgrind (children not traced)."""
    with tempfile.TemporaryDirectory(prefix="rtscope-cg-") as tmp:
        out = Path(tmp) / "cg.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
            capture_output=True, text=True, env=env, timeout=3600, check=False,
        )  # fmt: skip
        if done.returncode not in (0, 1):  # analyze exits 1 when it finds something
            raise RuntimeError(f"{argv[:3]}… exit {done.returncode}: {done.stderr[-400:]}")
        m = re.search(r"^totals:\s+(\d+)", out.read_text(errors="replace"), re.MULTILINE)
        if m is None:
            raise RuntimeError(f"no totals from callgrind for {argv[:3]}…")
        return int(m.group(1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=float, default=50.0, help="MB of synthetic capture")
    p.add_argument("--synth", type=int, default=synth.GENERATOR_VERSION, choices=synth.VERSIONS)
    p.add_argument("--other-tree", type=Path, default=None, help="another checkout to compare")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 2
    c.banner("analysis instructions vs the orjson loop, under callgrind (target 4)")
    if args.other_tree is not None:
        c.compile_rtscope(args.other_tree)
    path = synth.capture(args.size, version=args.synth)
    records = sum(1 for _ in open(path, "rb")) - 1  # the header is not a record
    tiny = Path(tempfile.mkdtemp(prefix="rtscope-tiny-")) / "two.jsonl"
    with open(path, "rb") as src, open(tiny, "wb") as dst:
        dst.writelines(line for _, line in zip(range(3), src, strict=False))
    py = sys.executable
    trees: dict[str, Path | None] = {"rtscope analyze": None}
    if args.other_tree is not None:
        trees["analyze (other)"] = args.other_tree
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "orjson loop": ([py, "-c", ORJSON_LOOP], None),
        "reader only": ([py, "-c", READER_ONLY], None),
    }
    for name, tree in trees.items():
        env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree / "src")}
        commands[name] = ([py, "-m", "rtscope", "analyze", "--format", "json"], env)
    print(f"\n   synth v{args.synth}: {synth.describe(path)}; start-up: a 2-record capture")
    print(f"   {'command':18} {'total Ir':>15} {'start-up Ir':>13} {'Ir/record':>10}")
    per_record: dict[str, float] = {}
    startup: dict[str, int] = {}
    for name, (cmd, env) in commands.items():
        total = instructions([*cmd, str(path)], env)
        start = instructions([*cmd, str(tiny)], env)
        per_record[name] = (total - start) / records
        startup[name] = start
        print(f"   {name:18} {total:>15,} {start:>13,} {per_record[name]:>10,.0f}")
    base = per_record["orjson loop"]
    for name in trees:
        for mb in (args.size, 200.0):
            n = records * mb / args.size
            ratio = (startup["orjson loop"] + base * n) / (startup[name] + per_record[name] * n)
            print(f"   {name}: {ratio:.2f}× the orjson loop's instructions at {mb:g} MB")
        print(f"      per record {base / per_record[name]:.2f}× (start-up left out)")
    shutil.rmtree(tiny.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
