"""Target 4 (start-up): cold ``rtscope analyze`` of a 1 MB capture, and where its imports go.

Wall time (median of ``--runs`` fresh processes) of:
``python -c pass`` (the interpreter floor), ``rtscope --version`` (the CLI shell), and
``rtscope analyze --format json`` on a 1 MB synthetic capture (and, as a diagnostic, the same
with ``--ignore invalid-client-event``, the rule that imports the openai SDK). Then one
``python -X importtime -m rtscope analyze …`` run, summed per top-level package, so a heavy import
on the default path (``openai``/``pydantic`` for schema validation, ``mitmproxy``, ``rich``) shows.

Target (issue 6): cold ``rtscope analyze`` of a 1 MB capture ≤ 0.3 s wall.

    python bench/analyze_cold.py [--runs 7] [--top 12] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import defaultdict

import _common as c
import synth
from analyze_speed import SCHEMA_RULE, analyze_available

TARGET_S = 0.3
WATCH = ("openai", "pydantic", "mitmproxy", "rich", "httpx", "websockets", "click", "orjson")


def wall(argv: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0, done.returncode


def import_times(argv: list[str]) -> tuple[dict[str, float], float]:
    """Cumulative import seconds per package, and the whole import total, from ``-X importtime``.

    Lines look like ``import time:  self_us |  cumulative_us | <2·depth spaces>name`` in
    post-order (children first). A package's figure is the cumulative time of its outermost
    import lines (those not nested in the same package), wherever it was imported from — so
    ``openai`` imported by ``rtscope.analyzers`` shows as ``openai``, and is also inside
    ``rtscope``'s figure. The total sums the top-level (depth 0) lines only.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, check=False
    )
    rows: list[tuple[int, str, int]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        raw = parts[2][1:]
        depth = (len(raw) - len(raw.lstrip(" "))) // 2
        rows.append((depth, raw.strip().split(".")[0], int(parts[1])))
    per: dict[str, float] = defaultdict(float)
    total = 0.0
    stack: list[tuple[int, str]] = []
    for depth, pkg, cumulative in reversed(rows):  # pre-order: parents before children
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if depth == 0:
            total += cumulative / 1e6
        if not stack or stack[-1][1] != pkg:
            per[pkg] += cumulative / 1e6
        stack.append((depth, pkg))
    return dict(per), total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--quick", action="store_true", help="3 runs")
    args = p.parse_args(argv)
    if args.quick:
        args.runs = 3
    path = synth.capture(1.0)
    ok_analyze, why = analyze_available()
    size = path.stat().st_size / 1e6
    c.banner(f"cold start: rtscope analyze of a {size:.1f} MB capture (target 4)")
    rtscope = str(c.BIN / "rtscope")
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "rtscope --version": [rtscope, "--version"],
    }
    if ok_analyze:
        cmds["rtscope analyze"] = [rtscope, "analyze", "--format", "json", str(path)]
        cmds["analyze −schema"] = [*cmds["rtscope analyze"], "--ignore", SCHEMA_RULE]
    else:
        print(f"   rtscope analyze: not available ({why})")
    walls: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.runs):
        for name, argv_ in cmds.items():
            seconds, code = wall(argv_)
            if code in (0, 1):
                walls[name].append(seconds)
    verdict = True
    for name in cmds:
        if not walls[name]:
            print(f"   {name:20} FAILED (exit code not 0/1)")
            verdict = False
            continue
        line = f"   {name:20} {c.median(walls[name]):.3f} s  (min {min(walls[name]):.3f})"
        if name == "rtscope analyze":
            met = c.median(walls[name]) <= TARGET_S
            verdict &= met
            line += f"  target ≤ {TARGET_S} s: {'met' if met else 'NOT met'}"
        print(line)
    probe = ["-m", "rtscope", "analyze", "--format", "json", str(path)]
    if not ok_analyze:
        probe = ["-m", "rtscope", "--version"]
    per, total = import_times(probe)
    print(
        f"   imports of `python {' '.join(probe[:3])} …`: {total:.3f} s in all;"
        " heaviest packages (cumulative, nested ones counted in their importer too):"
    )
    ranked = sorted(per.items(), key=lambda kv: -kv[1])[: args.top]
    print("   " + "  ".join(f"{name} {sec * 1e3:,.0f} ms" for name, sec in ranked))
    heavy = [f"{name} ({per[name] * 1e3:,.0f} ms)" for name in WATCH if per.get(name, 0) > 0.05]
    if heavy:
        print(f"   heavy imports on this path (> 50 ms): {', '.join(heavy)}")
    print(f"   ({args.runs} runs each · {c.load()})")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
