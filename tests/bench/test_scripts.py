"""Smoke tests: every bench script runs in its smallest configuration and prints its figures.

No timing is asserted (performance claims live in the scripts' output and docs/performance.md);
exit code 1 means "a target was not met", which is a figure, not a failure of the script.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
NUMBER = r"[\d,]+(\.\d+)?"


def run(script: str, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert re.search(r"load \d+\.\d\d", done.stdout), "figures must be printed with the load"
    return done.stdout


def test_proxy_throughput_prints_msgs_per_second_for_direct_and_mitmdump() -> None:
    out = run("proxy_throughput.py", "--quick", "--sizes", "200", "--only", "direct,mitmdump,lean")
    assert re.search(rf"200 c→s\s+direct\s+{NUMBER}", out)
    assert re.search(rf"200 s→c\s+mitmdump\s+{NUMBER}\s+\S+\s+{NUMBER}\s+1\.00×", out)
    assert re.search(rf"200 c→s\s+lean, no recorder\s+{NUMBER}", out)


def test_the_mapped_writer_and_hook_variant_candidates_relay_and_are_measured() -> None:
    out = run(
        "proxy_throughput.py",
        "--quick",
        "--sizes",
        "4096",
        "--only",
        "mitmdump,record-nolive-mapped,record-hook:noop,record-hook:map-populated,"
        "record-keepcache,addon-keepcache,record-inline,record-process,addon-process,"
        "addon-hook:noop",
    )
    names = ("record --no-live --mapped", "hook: noop", "hook: map-populated", "record, keep cache")
    writers = ("record --writer inline", "record --writer process", "addon, writer process")
    for name in (*names, "addon, keep cache", *writers, "addon hook: noop"):
        assert re.search(rf"4096 s→c\s+{name}\s+{NUMBER}", out), name


def test_proxy_latency_prints_p50_p99_and_added_latency() -> None:
    out = run("proxy_latency.py", "--quick", "--only", "direct,mitmdump")
    assert re.search(rf"mitmdump\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", out)
    assert re.search(r"direct .* [+-][\d,]+ µs", out)


def test_proxy_memory_prints_growth_and_burst_peak() -> None:
    out = run("proxy_memory.py", "--quick", "--only", "mitmdump")
    assert re.search(r"mitmdump\s+[\d.,]+ MiB\s+[\d.,]+ MiB\s+-?[\d.,]+ MiB", out)
    assert "burst" in out and "of the burst" in out


def test_proxy_sessions_prints_cpu_per_message_for_each_session_count() -> None:
    out = run("proxy_sessions.py", "--quick", "--only", "mitmdump")
    assert re.search(rf"\s1 mitmdump\s+{NUMBER}\s+{NUMBER}", out)
    assert re.search(rf"\s3 mitmdump\s+{NUMBER}\s+{NUMBER}", out)


def test_analyze_speed_prints_baselines_and_growth(bench_cache: Path) -> None:
    out = run("analyze_speed.py", "--quick")
    for name in ("wc -l", "python lines", "orjson loop", "json loop"):
        assert re.search(rf"{name}\s+{NUMBER}\s+{NUMBER}\s+[\d.,]+ MiB", out), name
    assert "growth with size" in out
    assert "rtscope analyze" in out  # measured, or reported as not available


def test_analyze_cold_prints_wall_times_and_import_breakdown(bench_cache: Path) -> None:
    out = run("analyze_cold.py", "--quick")
    assert re.search(r"python -c pass\s+\d+\.\d+ s", out)
    assert "rtscope" in out and " ms" in out


def test_run_all_runs_the_chosen_scripts_and_summarizes() -> None:
    out = run("run_all.py", "--quick", "--only", "analyze_cold,serve_concurrency")
    assert "== summary" in out
    assert re.search(r"analyze_cold.py\s+(ok|target)", out)
    assert "proxy_throughput.py" not in out.split("== summary")[1]
    # a script another part of rtscope owns is run when present, reported when absent
    assert re.search(r"serve_concurrency.py\s+(ok|target|not present)", out)


def test_codec_cost_prints_microseconds_per_message() -> None:
    out = run("codec_cost.py", "--quick")
    assert re.search(rf"client 4 KB \(append\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", out)


def test_sleep_lateness_prints_the_machine_floor() -> None:
    out = run("sleep_lateness.py", "--quick")
    assert re.search(rf"run 1: lateness p50 {NUMBER} ms\s+p99 {NUMBER} ms\s+max {NUMBER} ms", out)


@pytest.mark.parametrize("client", ["lean", "websockets"])
def test_serve_realtime_prints_lateness_and_the_clients_behind(
    bench_cache: Path, client: str
) -> None:
    out = run("serve_realtime.py", "--clients", "3", "--seconds", "1", "--client", client)
    assert re.search(rf"behind schedule: p50 {NUMBER} ms, p99 {NUMBER} ms", out)
    assert re.search(r"clients more than 50 ms behind: \d+/3", out)
    assert "3/3 clients got every message" in out
    assert "seconds of the session with the most clients > 50 ms behind (worst):" in out
    assert re.search(rf"the clients' process \({client} client\) \d+%", out)


def test_soak_memory_prints_heap_and_rss_every_ten_seconds() -> None:
    out = run("soak_memory.py", "--sessions", "2", "--seconds", "20", "--top", "3")
    assert re.search(r"^\s+0s\s+[\d.]+\s+[\d.]+$", out, re.M)
    assert re.search(r"^\s+20s\s+[\d.]+\s+[\d.]+$", out, re.M)
    assert re.search(r"heap [+-][\d.]+ MiB, RSS [+-][\d.]+ MiB", out)
    assert " KiB " in out  # the lines that grew most


def test_serve_realtime_play_plays_only_the_start_of_a_longer_session(bench_cache: Path) -> None:
    out = run(
        "serve_realtime.py", "--clients", "2", "--seconds", "4", "--play", "1", "--stagger", "3"
    )
    assert "the first 1 s played" in out
    assert "started 3 ms apart" in out
    assert "2/2 clients got every message" in out


def test_serve_realtime_setup_prints_what_the_connections_cost_the_server(
    bench_cache: Path,
) -> None:
    out = run("serve_realtime.py", "--clients", "3", "--seconds", "2", "--setup")
    assert re.search(rf"3 connections set up in {NUMBER} ms of CPU \({NUMBER} ms wall\)", out)
    assert re.search(r"\d+ gen-2 GC passes", out)


def test_live_path_prints_what_live_analysis_adds_per_bulk_message() -> None:
    out = run("live_path.py", "--messages", "300", "--repeats", "1")
    for mix in ("append 4K", "audio delta 4K", "transcript 200B", "mix 1:1:1"):
        # hook live, hook without, their difference (the live path), the engine alone, findings
        assert re.search(rf"{mix}\s+{NUMBER}\s+{NUMBER}\s+-?{NUMBER}\s+{NUMBER}\s+\d+", out), mix


@pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="needs valgrind (apt-get install valgrind)"
)
def test_analyze_instructions_prints_instructions_per_record_and_the_ratio(
    bench_cache: Path,
) -> None:
    out = run("analyze_instructions.py", "--size", "1", timeout=600)
    for name in ("orjson loop", "reader only", "rtscope analyze"):
        assert re.search(rf"{name}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", out), name
    assert re.search(r"rtscope analyze: \d\.\d\d× the orjson loop's instructions at 200 MB", out)


def test_page_cache_writes_prints_each_block_with_and_without_drop_behind(tmp_path: Path) -> None:
    out = run("page_cache_writes.py", "--quick", "--dir", str(tmp_path))
    for label in ("drop-behind", "keep cache"):
        assert re.search(rf"round 1, {label}\s+{NUMBER}/{NUMBER}\s+{NUMBER}/{NUMBER}$", out, re.M)
    assert list(tmp_path.iterdir()) == []  # each capture deleted after its run


def test_writer_cost_prints_the_writer_and_inline_cost_per_message() -> None:
    out = run("writer_cost.py", "--quick", "--messages", "300", "--sizes", "4096")
    for live in ("off", "on "):
        assert re.search(rf"4096  {live}\s+{NUMBER}\s+{NUMBER}\s+-?{NUMBER}$", out, re.M), out
