"""Targets 4 and 6 (analysis side): `rtscope analyze` speed and memory against parsing baselines.

For each synthetic capture size (``synth.py``; generator v2 by default: 76 % of messages are
audio, the issue's mix; ``--synth 1`` for the first generator's 32 %) every round runs, as
separate processes over the same file already in the page cache, in a rotating order:

- ``wc -l`` (the I/O floor), a plain Python binary line loop, ``orjson.loads`` per line (the
  target's baseline, ``open()``'s default 8 KiB buffer), the same loop with a 1 MiB buffer
  (a diagnostic: with lines of 4–7 KB the baseline spends most of its time refilling its buffer;
  ``rtscope analyze`` reads with 1 MiB), stdlib ``json.loads`` per line (for reference);
- the candidate ``rtscope analyze --format json FILE`` (every rule on), and, as a diagnostic,
  the same with ``--ignore invalid-client-event`` (the rule that imports the openai SDK).

Figures: median wall time (process start to exit, so imports count), GB/s, the median of per-round
ratios ``orjson loop time / analyze time`` (≥ 1.0 means analyze is at least as fast), and each
process's peak RSS (``ru_maxrss`` from ``wait4``). Growth with size shows as seconds per GB.

Targets (issue 6): ≥ 1.0× the orjson loop on 200 MB; RSS < 150 MB on 1 GB; linear in size.

    python bench/analyze_speed.py [--sizes 10,100,200] [--rounds 3] [--full] [--quick] [--synth 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import _common as c
import synth

PY_LINES = "import sys\nn=0\nwith open(sys.argv[1],'rb') as f:\n    for line in f: n+=1\n"
PY_ORJSON = (
    "import sys, orjson\nloads=orjson.loads\n"
    "with open(sys.argv[1],'rb') as f:\n    for line in f: loads(line)\n"
)
PY_ORJSON_1M = (
    "import sys, orjson\nloads=orjson.loads\n"
    "with open(sys.argv[1],'rb',buffering=1<<20) as f:\n    for line in f: loads(line)\n"
)
PY_JSON = (
    "import sys, json\nloads=json.loads\n"
    "with open(sys.argv[1],'rb') as f:\n    for line in f: loads(line)\n"
)
RSS_TARGET_MB = 150
SCHEMA_RULE = "invalid-client-event"
SPEED_TARGET = 1.0


def analyze_available() -> tuple[bool, str]:
    done = subprocess.run(
        [str(c.BIN / "rtscope"), "analyze", "--help"], capture_output=True, text=True, check=False
    )
    text = " ".join((done.stdout + done.stderr).split())
    if done.returncode != 0 or "not available" in text:
        return False, "`rtscope analyze` is not in this build (branch analyzers not merged)"
    return True, ""


OTHER = "analyze (other)"


def commands(path: Path, with_analyze: bool, other: Path | None = None) -> dict[str, list[str]]:
    py = sys.executable
    cmds = {
        "wc -l": ["wc", "-l", str(path)],
        "python lines": [py, "-c", PY_LINES, str(path)],
        "orjson loop": [py, "-c", PY_ORJSON, str(path)],
        "orjson 1 MiB buf": [py, "-c", PY_ORJSON_1M, str(path)],
        "json loop": [py, "-c", PY_JSON, str(path)],
    }
    if with_analyze:
        rtscope = str(c.BIN / "rtscope")
        cmds["rtscope analyze"] = [rtscope, "analyze", "--format", "json", str(path)]
        # diagnostic: the same without the one rule that imports the openai SDK (schema checks)
        cmds["analyze −schema"] = [*cmds["rtscope analyze"], "--ignore", SCHEMA_RULE]
    if other is not None:  # another checkout's rtscope (e.g. main), first on the path
        pythonpath = f"PYTHONPATH={other / 'src'}"
        argv = [py, "-m", "rtscope", "analyze", "--format", "json", str(path)]
        cmds[OTHER] = ["env", pythonpath, *argv]
    return cmds


GNU_TIME = "/usr/bin/time"


def run(argv: list[str]) -> tuple[float, int, int, str, float]:
    """(wall seconds, peak RSS bytes, exit code, stderr tail, CPU seconds) of one process.

    CPU is user + system time from ``wait4`` (Linux counts the reaped grandchild, the command
    under GNU time, in it): on a loaded machine it moves far less than wall time.

    Peak RSS comes from GNU time's ``%M`` when installed: Linux carries the forking parent's
    high-water mark into the child's ``ru_maxrss`` across exec, so ``wait4`` on a child of this
    (25 MB) process would report at least 25 MB; a child of ``time`` inherits only ~1 MB. The
    extra fork+exec of ``time`` adds ~1 ms to every command alike.
    """
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "%M", *argv] if use_time else argv
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()  # small; reading before wait4 avoids a full pipe
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    lines = err.decode(errors="replace").strip().splitlines()
    peak = usage.ru_maxrss * 1024
    if use_time and lines and lines[-1].strip().isdigit():
        peak = int(lines.pop().strip()) * 1024
        if lines and lines[-1].startswith("Command exited with non-zero status"):
            lines.pop()
    cpu = usage.ru_utime + usage.ru_stime
    return wall, peak, code, " | ".join(lines[-3:]), cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,100,200", help="MB (10^6 bytes), comma list")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--full", action="store_true", help="add the 1 GB capture (1 round on it)")
    p.add_argument("--quick", action="store_true", help="1 and 3 MB, 1 round")
    p.add_argument(
        "--synth", type=int, default=synth.GENERATOR_VERSION, choices=synth.VERSIONS,
        help="synthetic capture generator (2: the issue's 70 %% audio messages; 1: the first)",
    )  # fmt: skip
    p.add_argument(
        "--other-tree", type=Path, default=None,
        help="also run the rtscope of this checkout (its src/ first on PYTHONPATH), e.g. main",
    )  # fmt: skip
    args = p.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    if args.full:
        sizes.append(1000.0)
    if args.quick:
        sizes, args.rounds = [1.0, 3.0], 1
    ok_analyze, why = analyze_available()
    if args.other_tree is not None:
        c.compile_rtscope(args.other_tree)
    c.banner("analysis speed vs parsing baselines, synthetic captures (targets 4, 6)")
    if not ok_analyze:
        print(f"   rtscope analyze: not available ({why})")
    verdict = True
    per_gb: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for size in sizes:
        t0 = time.perf_counter()
        path = synth.capture(size, version=args.synth)
        made = time.perf_counter() - t0
        nbytes = path.stat().st_size
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # page cache
        cmds = commands(path, ok_analyze, args.other_tree)
        names = list(cmds)
        rounds = 1 if size >= 1000 else args.rounds
        walls: dict[str, list[float]] = defaultdict(list)
        cpus: dict[str, list[float]] = defaultdict(list)
        cpu_ratios: list[float] = []
        rsss: dict[str, int] = defaultdict(int)
        ratios: list[float] = []
        ratios_1m: list[float] = []
        other: list[tuple[float, float]] = []
        failures: dict[str, str] = {}
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            this: dict[str, float] = {}
            this_cpu: dict[str, float] = {}
            for name in order:
                wall, peak, code, err, cpu = run(cmds[name])
                if code not in (0, 1):
                    failures[name] = f"exit {code}: {err}"
                    continue
                walls[name].append(wall)
                cpus[name].append(cpu)
                rsss[name] = max(rsss[name], peak)
                this[name] = wall
                this_cpu[name] = cpu
            if "rtscope analyze" in this and "orjson loop" in this:
                ratios.append(this["orjson loop"] / this["rtscope analyze"])
                cpu_ratios.append(this_cpu["orjson loop"] / max(this_cpu["rtscope analyze"], 1e-6))
            if OTHER in this and "orjson loop" in this:
                other.append(
                    (
                        this["orjson loop"] / this[OTHER],
                        this_cpu["orjson loop"] / max(this_cpu[OTHER], 1e-6),
                    )
                )
            if "rtscope analyze" in this and "orjson 1 MiB buf" in this:
                ratios_1m.append(this["orjson 1 MiB buf"] / this["rtscope analyze"])
        print(
            f"\n   synth v{args.synth}: {synth.describe(path)}"
            f" ({'generated' if made > 0.5 else 'cached'}), {rounds} round(s) · {c.load()}"
        )
        print(f"   {'command':18} {'wall s':>8} {'GB/s':>7} {'peak RSS':>11} {'CPU s':>8}")
        for name in names:
            if name in failures:
                print(f"   {name:18} FAILED {failures[name]}")
                continue
            med = c.median(walls[name])
            per_gb[name].append((nbytes / 1e9, med))
            cpu = c.median(cpus[name])
            print(
                f"   {name:18} {med:>8.3f} {nbytes / 1e9 / med:>7.2f} {c.mib(rsss[name]):>11}"
                f" {cpu:>8.3f}"
            )
        if ratios:
            ratio = c.median(ratios)
            line = f"   analyze speed = {ratio:.2f}× the orjson loop"
            lo, hi = min(ratios), max(ratios)
            line += f" (rounds {lo:.2f}–{hi:.2f})" if len(ratios) > 1 else ""
            if 150 <= nbytes / 1e6 <= 250:
                met = ratio >= SPEED_TARGET
                verdict &= met
                line += f" (target ≥ {SPEED_TARGET:g}× on 200 MB: {'met' if met else 'NOT met'})"
            print(line)
        if cpu_ratios:
            cpu_ratio = c.median(cpu_ratios)
            print(f"   (CPU time: {cpu_ratio:.2f}× the orjson loop's, steadier under load)")
        if other:
            wall_o = c.median([w for w, _ in other])
            cpu_o = c.median([u for _, u in other])
            tree = args.other_tree
            print(f"   other tree ({tree}): {wall_o:.2f}× the orjson loop, CPU {cpu_o:.2f}×")
        if ratios_1m:
            diag = c.median(ratios_1m)
            print(f"   (diagnostic: {diag:.2f}× the orjson loop with a 1 MiB buffer)")
        if "rtscope analyze" in rsss and nbytes >= 9e8:
            met = rsss["rtscope analyze"] < RSS_TARGET_MB * 2**20
            verdict &= met
            print(
                f"   analyze peak RSS {c.mib(rsss['rtscope analyze'])} on {nbytes / 1e9:.1f} GB"
                f" (target < {RSS_TARGET_MB} MiB: {'met' if met else 'NOT met'})"
            )
    if len(sizes) > 1:
        print("\n   growth with size (seconds per GB, wall incl. start-up):")
        for name, pts in per_gb.items():
            cells = "  ".join(f"{gb * 1000:,.0f} MB: {s / gb:6.2f} s/GB" for gb, s in pts)
            print(f"   {name:18} {cells}")
    if not ok_analyze:
        print("   rtscope analyze: not available — targets 4 and 6 (analysis) not measured")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
