"""`rtscope demo` (what `make demo` runs): every real part end to end, offline.

Simulator (modality-race) → `rtscope record` subprocess → the openai SDK client → analyze → show →
replay --timing original,ack → report. Asserts what a user must see, not how long it took.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def test_demo_shows_the_race_the_workaround_and_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "rtscope", "demo", "--out", str(out), "--repeat", "2"],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = result.stdout
    # the recorder printed the finding live, then analyze explains it with its cause
    assert "[text-only-response]" in text
    assert "ERROR   text-only-response" in text
    assert "cause=modality-switch-race" in text
    # waiting for the acknowledgement makes the anomaly disappear, every time
    (row,) = [line for line in text.splitlines() if line.startswith("text-only-response ")]
    assert "original 1/1" in row and "replay/ack 0/2" in row
    captures = list((out / "captures").glob("*_gpt-realtime_*.jsonl"))
    assert len(captures) == 1
    assert stat.S_IMODE(captures[0].stat().st_mode) == 0o600
    assert (out / "report.html").stat().st_size > 10_000
    assert "sk-rtscope-demo" not in captures[0].read_text()
