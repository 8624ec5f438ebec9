"""Target 1, load-independent: instructions per relayed message of each proxy (valgrind callgrind).

msg/s and CPU µs/msg move with the machine's load (other processes, cache and CPU contention);
the number of instructions a proxy executes per message does not. Each candidate runs under
``valgrind --tool=callgrind --instr-atstart=no``; for each message size and direction the
instrumentation is switched on (``callgrind_control -i on``) for one load run of the usual
harness (200 warm-up messages + ``--seconds`` of windowed load, connection set-up included; one
short unmeasured run per direction first, for lazy imports and caches) and the executed
instructions (callgrind's ``Ir``) are divided by the messages relayed. Under valgrind a proxy is
~50× slower, so the runs relay about 1 300 messages each and take ~30 s.

The ratio of instructions per message to bare mitmdump's estimates the msg/s ratio of a
CPU-bound proxy (the proxy, not the harness, is the bottleneck here; instructions are not cycles,
so cache behaviour is left out). ``--base-src DIR`` adds ``rtscope record`` run from another
source tree (e.g. ``git archive <commit> | tar -x -C DIR``) for a before/after in the same run.

    python bench/proxy_instructions.py [--only mitmdump,addon,lean,record-nolive,record]
                                       [--sizes 200,4096] [--seconds 6] [--base-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import _common as c
import harness

DIRECTIONS = {"c→s": harness.client_to_server, "s→c": harness.server_to_client}
WARMUP = 200  # messages each harness run sends before its timed part (harness.py)


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], capture_output=True, timeout=120, check=True)


def _instructions(outdir: Path, pid: int) -> int:
    """``Ir`` of the newest dump of process ``pid`` (events since the previous zero/dump)."""
    dumps = sorted(outdir.glob(f"cg.{pid}*"), key=lambda p: p.stat().st_mtime)
    m = re.search(r"^totals:\s+(\d+)", dumps[-1].read_text(errors="replace"), re.MULTILINE)
    if m is None:
        raise RuntimeError(f"no totals in {dumps[-1]}")
    return int(m.group(1))


def _base_argv(upstream: int, port: int, out: Path) -> list[str]:
    code = "import sys; from rtscope.cli import main; sys.exit(main())"
    return [
        sys.executable, "-c", code, "record", "--upstream", f"http://{c.HOST}:{upstream}",
        "--listen", f"{c.HOST}:{port}", "--out", str(out), "--quiet",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="mitmdump,addon,lean,record-nolive,record")
    p.add_argument("--sizes", default="200,4096")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--base-src", type=Path, help="also run `rtscope record` from this src tree")
    args = p.parse_args(argv)
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("valgrind (callgrind) is not installed")
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    cands = [x for x in c.candidates(args.only.split(",")) if x.available and x.kind != "direct"]
    c.banner("proxy instructions per message under callgrind (target 1, load-independent)")
    rows: dict[tuple[str, int, str], float] = {}
    with c.workdir() as work:
        server = c.start_server(work)
        try:
            runs: list[tuple[str, Callable[[int], list[str]], dict[str, str]]] = []
            for cand in cands:
                out = work / f"captures-{cand.kind}"
                out.mkdir()
                runs.append((cand.name, partial(cand.argv, server.port, out=out), {}))
            if args.base_src:
                out = work / "captures-base"
                out.mkdir()
                env = {"PYTHONPATH": str(args.base_src.resolve() / "src")}
                runs.append(("record @ base", partial(_base_argv, server.port, out=out), env))
            for name, make_argv, env in runs:
                port = c.free_port()
                cmd = make_argv(port)
                # `env VAR=… prog …` (the A/B candidates): valgrind must run prog, not env
                if cmd[0] == "env":
                    settings = [a for a in cmd[1:] if "=" in a and not a.startswith("/")]
                    env = {**env, **dict(a.split("=", 1) for a in settings)}
                    cmd = cmd[1 + len(settings) :]
                cgdir = work / "cg"
                cgdir.mkdir(exist_ok=True)
                vg = [
                    "valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={cgdir}/cg.%p", *cmd,
                ]  # fmt: skip
                log = work / f"{name.replace(' ', '_')}.log"
                with open(log, "wb") as fh:
                    proc = subprocess.Popen(
                        vg, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        cwd=work, env={**os.environ, **env},
                    )  # fmt: skip
                try:
                    c.wait_port(port, proc, timeout=600)
                    url = f"ws://{c.HOST}:{port}/v1/realtime?model=bench"
                    # not measured: first use of each code path (lazy imports, caches)
                    for fn in DIRECTIONS.values():
                        asyncio.run(fn(url, sizes[0], 0.1))
                    for size in sizes:
                        for dname, fn in DIRECTIONS.items():
                            _control("--zero", str(proc.pid))
                            _control("-i", "on", str(proc.pid))
                            res = asyncio.run(fn(url, size, args.seconds))
                            _control("-i", "off", str(proc.pid))
                            _control("--dump", str(proc.pid))
                            ir = _instructions(cgdir, proc.pid)
                            rows[(name, size, dname)] = ir / (res.messages + WARMUP)
                            print(
                                f"   {name:20} {size:>5} {dname}  {res.messages + WARMUP:>6} msgs"
                                f"  {ir / (res.messages + WARMUP):>10,.0f} Ir/msg",
                                flush=True,
                            )
                finally:
                    proc.terminate()
                    try:
                        proc.wait(timeout=120)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=30)
        finally:
            server.stop()

    names = list(dict.fromkeys(n for n, _, _ in rows))
    print()
    print(f"   {'size':>6} {'dir':4} {'candidate':20} {'Ir/msg':>12} {'÷ mitmdump':>11}"
          f" {'mitmdump ÷':>11}")  # fmt: skip
    for size in sizes:
        for dname in DIRECTIONS:
            base = rows.get(("mitmdump", size, dname))
            for name in names:
                ir = rows.get((name, size, dname))
                if ir is None:
                    continue
                rel = f"{ir / base:>10.2f}×" if base else f"{'-':>11}"
                inv = f"{base / ir:>10.2f}×" if base else f"{'-':>11}"
                print(f"   {size:>6} {dname:4} {name:20} {ir:>12,.0f} {rel} {inv}")
    print("   (mitmdump ÷ candidate estimates the msg/s ratio of a CPU-bound proxy)")
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
