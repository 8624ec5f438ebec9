"""`rtscope export --har/--wav`: real subprocesses and real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures"


def rtscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args], capture_output=True, text=True, timeout=60
    )


def test_export_har_and_wav_at_once(tmp_path: Path) -> None:
    har = tmp_path / "s.har"
    wavs = tmp_path / "audio"
    result = rtscope(
        "export", str(FIXTURES / "har" / "mitmproxy.har"), "--har", str(har), "--wav", str(wavs)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"wrote {har}: 1 WebSocket entry, 11 messages"
    assert lines[1].split() == ["file", "seconds", "bytes", "format"]
    assert lines[2].split() == [str(wavs / "1_input.wav"), "0.10", "4844", "pcm16", "24", "kHz"]
    assert lines[3].split() == [str(wavs / "1_item_1.wav"), "0.10", "4844", "pcm16", "24", "kHz"]
    assert lines[-1] == f"wrote 2 WAV files into {wavs}"
    assert len(json.loads(har.read_text())["log"]["entries"][0]["_webSocketMessages"]) == 11


def test_export_har_to_stdout() -> None:
    result = rtscope(
        "export", str(FIXTURES / "logs" / "004_text-history-drops-audio.txt"), "--har", "-"
    )
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert len(doc["log"]["entries"][0]["_webSocketMessages"]) == 6
    assert result.stderr.startswith("wrote -: 1 WebSocket entry, 6 messages")


def test_export_without_audio_says_so(tmp_path: Path) -> None:
    result = rtscope(
        "export",
        str(FIXTURES / "logs" / "000_modality-switch-text-only.txt"),
        "--wav",
        str(tmp_path / "w"),
    )
    assert result.returncode == 0
    assert "note: no audio in this capture" in result.stdout


def test_export_needs_an_output_and_a_readable_input(tmp_path: Path) -> None:
    nothing = rtscope("export", str(FIXTURES / "har" / "chrome.har"))
    assert nothing.returncode == 2 and "give --har FILE and/or --wav DIR" in nothing.stderr
    missing = rtscope("export", str(tmp_path / "nope.jsonl"), "--har", str(tmp_path / "o.har"))
    assert missing.returncode == 2
    assert missing.stderr == f"rtscope: {tmp_path / 'nope.jsonl'}: no such file\n"
