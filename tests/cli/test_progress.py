"""Progress bars of the long commands, as users see them: on a terminal's stderr only.

Each command runs as a real subprocess. ``RTSCOPE_PROGRESS=1`` forces the bar although stderr is
a pipe (so the test can read it); one test gives the command a real pseudo-terminal instead, and
one checks that a piped stderr (the default) gets no bar and no escape codes at all.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtscope.pytest_plugin import Endpoint, ServerThread
from rtscope.replay.sim import SimOptions, simulator_factory
from tests.replay.captures import TEXT_SESSION, write_capture

FIXTURES = Path(__file__).parent.parent / "fixtures"
CAPTURES = FIXTURES / "captures"
AUDIO = CAPTURES / "ga-audio-turn.jsonl"

#: the character rich draws bars with
BAR = "━"


def rtscope(*args: str, progress: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RTSCOPE_PROGRESS"}
    if progress is not None:
        env["RTSCOPE_PROGRESS"] = progress
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def kb(n: int) -> str:
    """How rich's DownloadColumn writes ``n`` bytes below 1 MB."""
    return f"{n / 1000:.1f}"


@pytest.fixture
def big_capture(tmp_path: Path) -> Path:
    """A capture of several hundred kB: two sessions' records in one file (no header repeated)."""
    path = tmp_path / "big.jsonl"
    first = CAPTURES / "beta-format-mismatch.jsonl"
    second = CAPTURES / "ga-runaway-audio.jsonl"
    body = first.read_bytes() + b"".join(
        line for line in second.read_bytes().splitlines(keepends=True) if b'"header"' not in line
    )
    path.write_bytes(body)
    return path


def test_analyze_of_a_directory_draws_a_byte_bar_up_to_the_total_size(tmp_path: Path) -> None:
    directory = tmp_path / "caps"
    directory.mkdir()
    names = ["ga-audio-turn.jsonl", "ga-echo.jsonl", "beta-commit-short.jsonl"]
    for name in names:
        shutil.copy(CAPTURES / name, directory / name)
    total = sum((directory / n).stat().st_size for n in names)
    plain = rtscope("analyze", str(directory), progress=None)
    forced = rtscope("analyze", str(directory), progress="1")
    assert BAR in forced.stderr
    assert "analyzing" in forced.stderr
    # every byte of the three files was counted once, no more
    assert f"{kb(total)}/{kb(total)} kB" in forced.stderr
    # the bar changes nothing else: same findings, same exit code
    assert forced.stdout == plain.stdout
    assert forced.returncode == plain.returncode


def test_piped_stderr_gets_no_bar_and_no_escape_codes(tmp_path: Path, big_capture: Path) -> None:
    done = rtscope("analyze", str(big_capture), progress=None)
    assert done.returncode in (0, 1), done.stderr
    assert BAR not in done.stderr
    assert "\x1b[" not in done.stderr


@pytest.mark.parametrize("command", ["import", "export", "report", "show"])
def test_other_commands_draw_nothing_on_a_piped_stderr(tmp_path: Path, command: str) -> None:
    args = {
        "import": ["import", str(AUDIO), "-o", str(tmp_path / "i.jsonl")],
        "export": ["export", str(AUDIO), "--har", str(tmp_path / "a.har")],
        "report": ["report", str(AUDIO), "-o", str(tmp_path / "r.html")],
        "show": ["show", str(AUDIO)],
    }[command]
    done = rtscope(*args, progress=None)
    assert done.returncode == 0, done.stderr
    assert BAR not in done.stderr
    assert "\x1b[" not in done.stderr


def test_a_real_terminal_on_stderr_gets_the_bar_without_forcing(big_capture: Path) -> None:
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "RTSCOPE_PROGRESS"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtscope", "analyze", str(big_capture)],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    drawn = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        stdout, _ = proc.communicate(timeout=30)
    finally:
        os.close(master)
    text = drawn.decode("utf-8", "replace")
    assert BAR in text
    size = big_capture.stat().st_size
    assert f"{kb(size)}/{kb(size)} kB" in text
    assert BAR not in stdout.decode()  # the findings on stdout stay clean
    assert b"file(s)" in stdout


def test_import_counts_the_bytes_of_every_input(tmp_path: Path) -> None:
    inputs = [FIXTURES / "har" / "chrome.har", FIXTURES / "logs" / "js-console.log"]
    total = sum(p.stat().st_size for p in inputs)
    out = tmp_path / "imported.jsonl"
    done = rtscope("import", *map(str, inputs), "-o", str(out), progress="1")
    assert done.returncode == 0, done.stderr
    assert BAR in done.stderr
    assert f"{kb(total)}/{kb(total)} kB" in done.stderr
    assert out.exists()
    assert "wrote" in done.stdout


def test_export_har_and_wav_draw_bars_for_reading_and_writing(tmp_path: Path) -> None:
    done = rtscope(
        "export",
        str(AUDIO),
        "--har",
        str(tmp_path / "a.har"),
        "--wav",
        str(tmp_path / "wav"),
        progress="1",
    )
    assert done.returncode == 0, done.stderr
    assert BAR in done.stderr
    assert "writing HAR" in done.stderr
    assert "writing WAV" in done.stderr
    size = AUDIO.stat().st_size
    assert f"{kb(size)}/{kb(size)} kB" in done.stderr
    assert (tmp_path / "a.har").exists()
    assert list((tmp_path / "wav").glob("*.wav"))


def test_report_counts_both_passes_over_the_capture(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = rtscope("report", str(AUDIO), "-o", str(out), progress="1")
    assert done.returncode == 0, done.stderr
    assert BAR in done.stderr
    size = AUDIO.stat().st_size
    # the analyzers' pass and the report's pass each read the file once
    assert f"{kb(2 * size)}/{kb(2 * size)} kB" in done.stderr
    assert out.exists()


def test_show_draws_the_bar_on_stderr_and_keeps_the_timeline_clean() -> None:
    plain = rtscope("show", str(AUDIO), progress=None)
    forced = rtscope("show", str(AUDIO), progress="1")
    assert forced.returncode == 0, forced.stderr
    assert BAR in forced.stderr
    assert forced.stdout == plain.stdout


@pytest.fixture
def simulator() -> Iterator[Endpoint]:
    server = ServerThread(simulator_factory(SimOptions()))
    endpoint = server.start()
    yield endpoint
    server.stop()


def test_replay_repeat_counts_runs(simulator: Endpoint, tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    args = ["replay", str(capture), "--target", simulator.url, "--timing", "asap"]
    done = rtscope(*args, "--repeat", "3", "--out", str(tmp_path / "o"), progress="1")
    assert done.returncode == 0, done.stderr
    assert "replaying" in done.stderr
    assert "3/3" in done.stderr
    # the per-run lines still reach stdout, whole
    assert [line[:12] for line in done.stdout.splitlines() if line.startswith("run ")] == [
        "run asap #1:",
        "run asap #2:",
        "run asap #3:",
    ]


def test_a_single_replay_run_draws_no_bar(simulator: Endpoint, tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    args = ["replay", str(capture), "--target", simulator.url, "--timing", "asap"]
    done = rtscope(*args, "--out", str(tmp_path / "o"), progress="1")
    assert done.returncode == 0, done.stderr
    assert BAR not in done.stderr
