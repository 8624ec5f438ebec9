"""`rtscope import`: real subprocesses, real files; exit codes and one-line errors."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from rtscope.capture import CaptureReader

FIXTURES = Path(__file__).parents[1] / "fixtures"
SEEDS = sorted((FIXTURES / "seeds").glob("00*.txt"))


def rtscope(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_of_the_five_seeds_writes_one_private_capture(tmp_path: Path) -> None:
    out = tmp_path / "seeds.jsonl"
    result = rtscope("import", *map(str, SEEDS), "-o", str(out))
    assert result.returncode == 0, result.stderr
    # 16 + 8 + 31 + 3 + 6 events, counted by hand (see tests/capture/importers/test_pasted.py)
    assert result.stdout.strip() == f"wrote {out}: 5 connections, 64 messages from 5 inputs"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    reader = CaptureReader(out)
    records = list(reader)
    assert reader.header is not None
    assert [s["kind"] for s in reader.header["imported_from"]] == ["pasted-log"] * 5
    assert [r["conn"] for r in records if r["seq"] == 0] == ["0", "0.2", "0.3", "0.4", "0.5"]
    assert sum(1 for r in records if r["conn"] == "0.3") == 31


def test_import_har_and_flows_together(tmp_path: Path) -> None:
    out = tmp_path / "mixed.jsonl"
    har, flows = FIXTURES / "har" / "chrome.har", FIXTURES / "har" / "session.mitm"
    result = rtscope("import", str(har), str(flows), "-o", str(out))
    assert result.returncode == 0, result.stderr
    kinds = [r["kind"] for r in CaptureReader(out)]
    assert kinds.count("open") == 2 and kinds.count("msg") == 6 + 11


def test_import_from_stdin(tmp_path: Path) -> None:
    out = tmp_path / "paste.jsonl"
    text = b"Sent: {'type': 'response.create'}\nReceived: {'type': 'response.created'}\n"
    result = rtscope("import", "-", "-o", str(out), stdin=text)
    assert result.returncode == 0, result.stderr
    assert [r["event"]["type"] for r in CaptureReader(out)] == [
        "response.create",
        "response.created",
    ]


def test_skipped_parts_are_warned_and_the_rest_kept(tmp_path: Path) -> None:
    out = tmp_path / "py.jsonl"
    result = rtscope("import", str(FIXTURES / "logs" / "python-logging.log"), "-o", str(out))
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("rtscope: warning: ")
    assert "python-logging.log:7: cannot read this event object" in result.stderr
    assert "6 messages" in result.stdout


def test_bad_input_is_one_line_exit_2_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    result = rtscope("import", str(FIXTURES / "har" / "no-websocket.har"), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"rtscope: {FIXTURES / 'har' / 'no-websocket.har'}: no WebSocket entries"
    )
    assert not out.exists()


def test_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "taken.jsonl"
    out.write_text("keep me\n")
    result = rtscope("import", str(SEEDS[0]), "-o", str(out))
    assert result.returncode == 2
    assert (
        result.stderr
        == f"rtscope: {out}: already exists (captures are never overwritten; pick a new name)\n"
    )
    assert out.read_text() == "keep me\n"
