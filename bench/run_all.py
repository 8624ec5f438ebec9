"""Run every benchmark (``make bench``): the figures of docs/performance.md, with the load.

Each script runs in its own process, one after the other. Default sizes keep the whole run well
under 15 minutes on a 2-core machine; ``--full`` adds the 1 GB analysis and the 180 000-message
memory run; ``--quick`` is a smoke run of a minute or two. Scripts other helpers add to bench/
(``replay_lateness.py``, ``serve_concurrency.py``, ``recorder_hook.py``) run when present.

    python bench/run_all.py [--quick | --full] [--only NAME,…]

The exit code is 0 when every script ran and every measured target was met, 1 otherwise (a
candidate that is not in the build is reported, not failed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import _common as c

#: every proxy candidate, with the lean embedded mitmproxy without recorder (the ceiling)
ALL_PROXIES = "direct,mitmdump,lean,addon,addon-inline,record,record-inline,record-nolive"
#: (script, extra arguments in default / quick / full mode)
SCRIPTS: list[tuple[str, dict[str, list[str]]]] = [
    (
        "proxy_throughput.py",
        {
            "default": ["--only", ALL_PROXIES],
            "quick": ["--quick"],
            "full": ["--rounds", "5", "--only", ALL_PROXIES],
        },
    ),
    ("proxy_latency.py", {"default": [], "quick": ["--quick"], "full": ["--count", "500"]}),
    ("proxy_memory.py", {"default": [], "quick": ["--quick"], "full": ["--full"]}),
    ("proxy_sessions.py", {"default": [], "quick": ["--quick"], "full": []}),
    ("analyze_speed.py", {"default": [], "quick": ["--quick"], "full": ["--full"]}),
    ("analyze_cold.py", {"default": [], "quick": ["--quick"], "full": []}),
    ("codec_cost.py", {"default": [], "quick": ["--quick"], "full": []}),
    ("sleep_lateness.py", {"default": [], "quick": ["--quick"], "full": []}),
    ("serve_realtime.py", {"default": [], "quick": ["--quick"], "full": ["--full"]}),
]
#: Scripts owned by other parts of rtscope: run when present, with --quick/--full if they take it.
OPTIONAL = ["recorder_hook.py", "replay_lateness.py", "serve_concurrency.py"]


def _supports(script: str, flag: str) -> bool:
    done = subprocess.run(
        [sys.executable, str(c.HERE / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return flag in done.stdout


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    p.add_argument("--only", default="", help="comma list of script names (without .py)")
    args = p.parse_args(argv)
    which = "quick" if args.quick else "full" if args.full else "default"
    plan = [(script, extra[which]) for script, extra in SCRIPTS]
    for script in OPTIONAL:
        if (c.HERE / script).exists():
            flag = {"quick": "--quick", "full": "--full"}.get(which)
            plan.append((script, [flag] if flag and _supports(script, flag) else []))
        else:
            plan.append((script, ["<absent>"]))
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only.split(",")}
        plan = [(s, a) for s, a in plan if s.removesuffix(".py") in wanted]

    print(c.machine_header(f"rtscope benchmarks ({which})"), flush=True)
    results: list[tuple[str, str, float]] = []
    for script, extra in plan:
        if extra == ["<absent>"]:
            results.append((script, "not present (its branch is not merged)", 0.0))
            continue
        print(flush=True)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, str(c.HERE / script), *extra], check=False)
        took = time.perf_counter() - t0
        code = done.returncode
        status = {0: "ok", 1: "target(s) NOT met"}.get(code, f"FAILED (exit {code})")
        results.append((script, status, took))
    print("\n== summary")
    for script, status, took in results:
        print(f"   {script:24} {status:40} {took:6.0f} s")
    print(f"   ({c.load()})")
    bad = [s for s in results if s[1] not in ("ok",) and not s[1].startswith("not present")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
