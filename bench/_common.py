"""Shared pieces of the bench scripts: machine facts, ports, proxy candidates, samplers, stats.

Bench scripts print figures; they never assert. Every figure is printed next to the machine's load
average at the time, because these machines are shared and absolute numbers move ±12 % from run to
run (ratios against baselines measured in the same run, interleaved, hold much better).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    """The 1/5/15-minute load averages, e.g. ``load 1.23 0.98 0.40``."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for mod in ("mitmproxy", "websockets", "orjson"):
        try:
            from importlib.metadata import version

            parts.append(f"{mod} {version(mod)}")
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            pass
    return ", ".join(parts)


def machine_header(title: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"== {title}\n   {now} · {os.cpu_count()} CPU · {cpu_model()} · {versions()} · {load()}"


def banner(title: str) -> None:
    compile_rtscope()
    print(machine_header(title), flush=True)


def compile_rtscope(tree: Path | None = None) -> None:
    """Write rtscope's bytecode cache (``__pycache__``) before anything is timed.

    ``pip install rtscope`` compiles it at install time, and Python writes it on a first import;
    but an editable install run with ``PYTHONDONTWRITEBYTECODE=1`` (set on this project's
    machines) would compile all of rtscope from source in every process: ~40 ms more per
    ``rtscope analyze``, which no user pays. Reading a cache is not affected by that variable.
    ``tree``: another checkout run for comparison (its ``src/``), which needs the same, or the
    comparison measures the compiler (it did once: docs/performance.md, session 4).
    """
    import compileall

    if tree is not None:
        compileall.compile_dir(tree / "src", quiet=1)
        return
    import rtscope

    compileall.compile_dir(Path(rtscope.__file__).parent, quiet=1)


# --------------------------------------------------------------------------- stats


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, ``q`` in 0..100."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread(values: list[float]) -> str:
    """``min–max`` of a list, to show run-to-run noise next to a median."""
    if not values:
        return "-"
    return f"{min(values):,.0f}–{max(values):,.0f}"


# --------------------------------------------------------------------------- ports & processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout:.0f}s")


@dataclass
class Running:
    """A process this bench started (only these are ever stopped, by pid)."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(name: str, argv: list[str], port: int, workdir: Path) -> Running:
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir
        )
    running = Running(name, proc, port, log)
    try:
        wait_port(port, proc)
    except RuntimeError as exc:
        running.stop()
        raise RuntimeError(f"{name}: {exc}\n{running.tail()}") from exc
    return running


def start_server(workdir: Path) -> Running:
    port = free_port()
    argv = [sys.executable, str(HERE / "harness.py"), "server", "--port", str(port)]
    return spawn("server", argv, port, workdir)


@contextlib.contextmanager
def workdir(prefix: str = "rtscope-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- proxy candidates


@dataclass
class Candidate:
    """One way of putting something between the client and the server."""

    name: str
    available: bool
    reason: str = ""
    #: "direct" | "mitmdump" | "lean" | "addon" | "addon-mapped" | "addon-keepcache" |
    #: "addon-nobp" | "record" |
    #: "record-nolive" | "record-nobp" | "record-mapped" | "record-nolive-mapped" |
    #: "record-keepcache" | "record-nolive-keepcache" | "script-noop" | … (:func:`candidates`)
    kind: str = ""

    def argv(self, upstream: int, port: int, out: Path) -> list[str]:
        reverse = f"reverse:http://{HOST}:{upstream}@{HOST}:{port}"
        mitmdump = str(BIN / "mitmdump")
        if self.kind == "mitmdump":
            return [mitmdump, "-q", "--set", "flow_detail=0", "--mode", reverse]
        if self.kind == "lean":
            return [
                sys.executable, str(HERE / "lean_proxy.py"),
                "--upstream-port", str(upstream), "--port", str(port),
            ]  # fmt: skip
        # *-keepcache: the capture's pages stay in the page cache (no drop-behind; `env` execs,
        # so the pid measured is the proxy's)
        env = ["env", "RTSCOPE_DROP_BEHIND=0"] if self.kind.endswith("keepcache") else []
        if self.kind in _ADDONS:
            # addon-nobp: the script's backpressure off (rtscope_backlog=0), mitmproxy's behaviour
            return [
                *env, mitmdump, "-q", "--set", "flow_detail=0", "-s", addon_path() or "",
                "--set", f"rtscope_dir={out}", "--mode", reverse,
                *(["--set", "rtscope_mapped=true"] if self.kind == "addon-mapped" else []),
                *(["--set", "rtscope_backlog=0"] if self.kind == "addon-nobp" else []),
                *(["--set", "rtscope_writer=process"] if self.kind == "addon-process" else []),
                *(["--set", "rtscope_writer=inline"] if self.kind == "addon-inline" else []),
            ]  # fmt: skip
        if self.kind == "script-noop":  # bench/noop_script.py: an empty message hook, no rtscope
            return [
                mitmdump, "-q", "--set", "flow_detail=0", "-s", str(HERE / "noop_script.py"),
                "--mode", reverse,
            ]  # fmt: skip
        if self.kind.startswith("addon-hook:"):  # bench/addon_variant.py: the same in mitmdump
            return [
                "env", f"RTSCOPE_HOOK_VARIANT={self.kind.split(':', 1)[1]}", mitmdump, "-q",
                "--set", "flow_detail=0", "-s", str(HERE / "addon_variant.py"),
                "--set", f"rtscope_dir={out}", "--mode", reverse,
            ]  # fmt: skip
        if self.kind.startswith("record-hook:"):  # bench/hook_variant.py: one part of the hook
            return [
                sys.executable, str(HERE / "hook_variant.py"), self.kind.split(":", 1)[1],
                "record", "--upstream", f"http://{HOST}:{upstream}", "--listen",
                f"{HOST}:{port}", "--out", str(out), "--quiet", "--no-live",
            ]  # fmt: skip
        if self.kind in _RECORDS:
            # record-nobp: the same, with backpressure off (RTSCOPE_RECORD_BACKLOG=0; `env` execs,
            # so the pid measured is rtscope's).
            if self.kind == "record-nobp":
                env = ["env", "RTSCOPE_RECORD_BACKLOG=0"]
            return [
                *env, str(BIN / "rtscope"), "record", "--upstream", f"http://{HOST}:{upstream}",
                "--listen", f"{HOST}:{port}", "--out", str(out), "--quiet",
                *(["--no-live"] if "nolive" in self.kind else []),
                *(["--mapped"] if self.kind.endswith("mapped") else []),
                *(["--writer", "process"] if self.kind.endswith("process") else []),
                *(["--writer", "inline"] if self.kind.endswith("inline") else []),
            ]  # fmt: skip
        raise ValueError(self.kind)


_ADDONS = (
    "addon", "addon-mapped", "addon-keepcache", "addon-nobp", "addon-process", "addon-inline",
)  # fmt: skip
_RECORDS = (
    "record", "record-nolive", "record-nobp", "record-mapped", "record-nolive-mapped",
    "record-keepcache", "record-nolive-keepcache", "record-process", "record-nolive-process",
    "record-inline", "record-nolive-inline",
)  # fmt: skip


def _rtscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "rtscope"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def addon_path() -> str | None:
    try:
        done = _rtscope("addon-path")
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = done.stdout.strip()
    return path if done.returncode == 0 and path and Path(path).is_file() else None


def record_available() -> tuple[bool, str]:
    try:
        done = _rtscope("record", "--help")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    text = " ".join((done.stdout + done.stderr).split())
    if done.returncode != 0 or "not available" in text:
        return False, "`rtscope record` is not in this build (branch proxy not merged)"
    if "--upstream" not in text:
        return False, "`rtscope record` has no --upstream option"
    return True, ""


def candidates(names: list[str] | None = None) -> list[Candidate]:
    """direct, bare mitmdump, mitmdump -s rtscope addon, rtscope record (in that order).

    ``record-nolive`` (``rtscope record --no-live``), ``lean`` (embedded mitmproxy, no
    recorder: the ceiling of ``rtscope record``), ``record-nobp`` (``rtscope record`` with its
    backpressure turned off), the ``--mapped`` variants ``record-mapped``,
    ``record-nolive-mapped`` and ``addon-mapped``, the ``*-keepcache`` variants (no
    drop-behind: ``RTSCOPE_DROP_BEHIND=0``) and ``addon-nobp`` (the script's backpressure off:
    ``rtscope_backlog=0``) are only included when asked for by name, as are the writer variants
    but ``record-inline`` and ``addon-inline`` (``rtscope record --writer inline``,
    ``rtscope_writer=inline``: the other writer, measured beside the default).
    """
    has_mitmdump = (BIN / "mitmdump").exists()
    no_mitmdump = "mitmdump not installed"
    found = [
        Candidate("direct", True, kind="direct"),
        Candidate("mitmdump", has_mitmdump, no_mitmdump, "mitmdump"),
    ]
    path = addon_path()
    found.append(
        Candidate(
            "mitmdump -s addon",
            path is not None,
            "" if path else "`rtscope addon-path` not in this build (branch proxy not merged)",
            "addon",
        )
    )
    ok, why = record_available()
    found.append(Candidate("rtscope record", ok, why, "record"))
    found.append(Candidate("record --no-live", ok, why, "record-nolive"))
    found.append(Candidate("lean, no recorder", True, kind="lean"))
    found.append(Candidate("record, no backpress.", ok, why, "record-nobp"))
    found.append(Candidate("record --mapped", ok, why, "record-mapped"))
    found.append(Candidate("record --no-live --mapped", ok, why, "record-nolive-mapped"))
    found.append(
        Candidate("addon, mapped", path is not None, "no `rtscope addon-path`", "addon-mapped")
    )
    found.append(Candidate("record, keep cache", ok, why, "record-keepcache"))
    found.append(Candidate("record --no-live, keep cache", ok, why, "record-nolive-keepcache"))
    no_addon = "no `rtscope addon-path`"
    found.append(Candidate("addon, keep cache", path is not None, no_addon, "addon-keepcache"))
    found.append(Candidate("addon, no backpress.", path is not None, no_addon, "addon-nobp"))
    found.append(Candidate("record --writer process", ok, why, "record-process"))
    found.append(Candidate("record --writer inline", ok, why, "record-inline"))
    found.append(Candidate("record --no-live --writer i.", ok, why, "record-nolive-inline"))
    found.append(Candidate("record --no-live --writer p.", ok, why, "record-nolive-process"))
    found.append(Candidate("addon, writer process", path is not None, no_addon, "addon-process"))
    found.append(Candidate("addon, writer inline", path is not None, no_addon, "addon-inline"))
    found.append(Candidate("script, empty hook", has_mitmdump, no_mitmdump, "script-noop"))
    for name in names or ():
        if name.startswith("record-hook:"):  # by name only: bench/hook_variant.py's variants
            found.append(Candidate(f"hook: {name.split(':', 1)[1]}", ok, why, name))
        if name.startswith("addon-hook:"):  # by name only: bench/addon_variant.py
            label = f"addon hook: {name.split(':', 1)[1]}"
            found.append(Candidate(label, path is not None, no_addon, name))
    if names:
        return [c for c in found if c.kind in names or c.name in names]
    return [c for c in found if c.kind not in _ON_REQUEST]


#: Candidates that only run when named (``--only``): the ceiling and variants of the recorder.
_ON_REQUEST = (
    "lean", "record-nolive", "record-nobp", "record-mapped", "record-nolive-mapped", "addon-mapped",
    "record-keepcache", "record-nolive-keepcache", "addon-keepcache", "addon-nobp",
    "record-process", "record-nolive-process", "addon-process", "record-nolive-inline",
    "script-noop",
)  # fmt: skip


def name_width(cands: list[Candidate]) -> int:
    """The width of a table's candidate column: 20, or the longest name among ``cands``."""
    return max([20, *(len(cand.name) for cand in cands)])


@dataclass
class Proxies:
    """The server plus one running process per available candidate, started once per bench."""

    server: Running
    running: dict[str, Running] = field(default_factory=dict)
    direct_port: int = 0

    def url(self, cand: Candidate, path: str = "/v1/realtime?model=bench") -> str:
        port = self.server.port if cand.kind == "direct" else self.running[cand.name].port
        return f"ws://{HOST}:{port}{path}"

    def proc(self, cand: Candidate) -> psutil.Process | None:
        run = self.running.get(cand.name)
        return psutil.Process(run.pid) if run else None

    def stop(self) -> None:
        for run in self.running.values():
            run.stop()
        self.server.stop()


def start_proxies(cands: list[Candidate], work: Path) -> Proxies:
    work.mkdir(parents=True, exist_ok=True)
    server = start_server(work)
    proxies = Proxies(server)
    try:
        for cand in cands:
            if cand.kind == "direct" or not cand.available:
                continue
            out = work / f"captures-{cand.kind}"
            out.mkdir()
            port = free_port()
            proxies.running[cand.name] = spawn(
                cand.kind, cand.argv(server.port, port, out), port, work
            )
    except BaseException:
        proxies.stop()
        raise
    return proxies


# --------------------------------------------------------------------------- measuring a process


def cpu_seconds(proc: psutil.Process | None) -> float:
    """User + system CPU seconds of ``proc`` and its children (0 for no process)."""
    if proc is None:
        return 0.0
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class RssSampler:
    """Samples a process's RSS every ``interval`` seconds in a thread: ``.samples`` = (t, bytes)."""

    def __init__(self, proc: psutil.Process, interval: float = 0.25) -> None:
        self.proc = proc
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> int:
        value = rss(self.proc)
        self.samples.append((time.monotonic(), value))
        return value

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    @property
    def peak(self) -> int:
        return max((v for _, v in self.samples), default=0)


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.1f} MiB"
