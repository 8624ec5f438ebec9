"""Every file rtscope creates is 0600 and every directory it creates 0700, under umask 000.

Captures, HAR files, WAV files and HTML reports hold transcripts, audio and (redacted) headers:
they must stay private even when the process umask would make them world-readable. Each command
runs as a real subprocess started with ``umask=0``.
"""

from __future__ import annotations

import asyncio
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from rtscope.pytest_plugin import Endpoint, ServerThread
from rtscope.replay.sim import SimOptions, simulator_factory
from tests.cli.test_record import start_record
from tests.proxy.realtime_server import RealtimeServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
AUDIO = FIXTURES / "ga-audio-turn.jsonl"


def rtscope_umask0(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args],
        capture_output=True,
        text=True,
        timeout=60,
        umask=0,
        stdin=subprocess.DEVNULL,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_tree(top: Path) -> int:
    """Every file under ``top`` is 0600 and every directory (``top`` too) 0700; returns files."""
    assert mode(top) == 0o700, top
    count = 0
    for path in top.rglob("*"):
        if path.is_dir():
            assert mode(path) == 0o700, path
        else:
            assert mode(path) == 0o600, path
            count += 1
    return count


@pytest.fixture
def simulator() -> Iterator[Endpoint]:
    server = ServerThread(simulator_factory(SimOptions()))
    endpoint = server.start()
    yield endpoint
    server.stop()


def test_import_output_and_its_new_directories_are_private(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dirs" / "imported.jsonl"
    done = rtscope_umask0("import", str(AUDIO), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert assert_private_tree(tmp_path / "new") == 1


def test_export_har_file_is_private_even_over_an_existing_public_file(tmp_path: Path) -> None:
    har = tmp_path / "out.har"
    har.write_text("old")
    har.chmod(0o644)
    done = rtscope_umask0("export", str(AUDIO), "--har", str(har))
    assert done.returncode == 0, done.stderr
    assert mode(har) == 0o600


def test_export_wav_directory_and_files_are_private(tmp_path: Path) -> None:
    wav = tmp_path / "audio" / "nested"
    done = rtscope_umask0("export", str(AUDIO), "--wav", str(wav))
    assert done.returncode == 0, done.stderr
    assert assert_private_tree(tmp_path / "audio") >= 2


def test_report_html_is_private_even_over_an_existing_public_file(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    html.write_text("old")
    html.chmod(0o666)
    done = rtscope_umask0("report", str(AUDIO), "-o", str(html), "--no-findings")
    assert done.returncode == 0, done.stderr
    assert mode(html) == 0o600


def test_replay_out_directories_and_captures_are_private(
    simulator: Endpoint, tmp_path: Path
) -> None:
    text_session = FIXTURES / "ga-lifecycle.jsonl"
    out = tmp_path / "replays" / "run"
    done = rtscope_umask0(
        "replay", str(text_session), "--target", simulator.url, "--timing", "asap",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert assert_private_tree(tmp_path / "replays") >= 1


async def test_record_captures_and_directories_are_private(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Also proven, with a clean SIGINT stop, by tests/cli/test_record.py."""
    out = tmp_path / "captures" / "nested"
    async with RealtimeServer() as server:
        proc, port = await start_record(
            "--upstream", server.url, "--out", str(out),
            "--confdir", str(tmp_path_factory.mktemp("conf")), umask=0,
        )  # fmt: skip
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
                await ws.recv()
            await asyncio.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.communicate(), 20)
    assert assert_private_tree(tmp_path / "captures") == 1
