"""``rtscope show``: the timeline printed for real capture files, and one-line errors."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rtscope.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "report" / "fixtures"
GOLDEN = Path(__file__).parent / "golden"


def run_show(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``rtscope show`` in a child process with its output piped (so: plain text)."""
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "rtscope", "show", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


# The golden files were produced once and then checked by hand, line by line, against the
# fixtures' events (tests/report/fixtures/make_fixtures.py and seed 000): the times since open,
# the arrows (→ client, ← server), the collapsed counts (5 μ-law appends of 100 ms = 500 ms;
# 5 A-law deltas of 800 bytes = 500 ms in 160 ms), the modality change [text] → [text,audio] of
# seed 000, and each response.done's status, reason and token counts.
@pytest.mark.parametrize(
    ("fixture", "args", "golden"),
    [
        ("seed000_modality_switch.jsonl", [], "show_seed000.txt"),
        ("beta_g711.jsonl", [], "show_beta_g711.txt"),
        ("ga_voice.jsonl", ["--types", "response.done,error,session.*"], "show_ga_types.txt"),
    ],
)
def test_show_prints_the_reviewed_timeline_as_plain_text_when_piped(
    fixture: str, args: list[str], golden: str
) -> None:
    # --no-findings: the timeline alone, whatever the analyzers of this build find.
    result = run_show(f"tests/report/fixtures/{fixture}", "--no-findings", *args)
    assert result.returncode == 0, result.stderr
    expected = (GOLDEN / golden).read_text(encoding="utf-8")
    assert result.stdout == expected
    assert "\x1b[" not in result.stdout  # no color codes in a pipe


def test_show_collapses_the_ga_session_deltas(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["show", str(FIXTURES / "ga_voice.jsonl")])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "response.output_audio.delta ×7  700 ms audio  in 300 ms" in out
    assert "input_audio_buffer.append ×" in out
    messages = (FIXTURES / "ga_voice.jsonl").read_bytes().count(b'"kind":"msg"')
    assert f": {messages} events in " in out.splitlines()[-1]


def test_show_no_collapse_prints_every_delta(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["show", str(FIXTURES / "beta_g711.jsonl"), "--no-collapse"])
    out = capsys.readouterr().out
    assert out.count("response.audio.delta  100 ms audio") == 5
    assert "×" not in out


def test_show_reads_gzip_and_standard_input(tmp_path: Path) -> None:
    gz = tmp_path / "cap.jsonl.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "beta_g711.jsonl").read_bytes()))
    from_gz = run_show(str(gz), "--no-findings")
    assert from_gz.returncode == 0
    with open(FIXTURES / "beta_g711.jsonl", "rb") as stdin:
        piped = subprocess.run(
            [sys.executable, "-m", "rtscope", "show", "--no-findings", "-"],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert piped.returncode == 0
    body = (GOLDEN / "show_beta_g711.txt").read_text(encoding="utf-8").splitlines()[:-1]
    assert from_gz.stdout.splitlines()[:-1] == body
    assert piped.stdout.splitlines()[:-1] == body
    assert piped.stdout.splitlines()[-1].startswith("<stdin>: 18 events")


def test_show_forced_color_uses_ansi_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["show", str(FIXTURES / "beta_g711.jsonl"), "--color"])
    assert "\x1b[" in capsys.readouterr().out


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _write(d / "empty.jsonl", b""), "empty.jsonl: no events in this file ("),
        (
            lambda d: _write(d / "garbage.bin", bytes(range(256)) * 4),
            "garbage.bin:1: binary data, not a capture (expected JSON lines)",
        ),
        (
            lambda d: _write(d / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            "image.png:1: binary data, not a capture",
        ),
        (
            lambda d: _write(
                d / "v99.jsonl", b'{"kind":"header","format":"rtscope.capture","version":99}\n'
            ),
            "v99.jsonl:1: capture format version 99",
        ),
        (lambda d: str(d / "missing.jsonl"), "missing.jsonl: no such file"),
        (
            lambda d: _write(d / "bad.jsonl", b'{"type":"session.created"}\n{oops\n'),
            "bad.jsonl:2: not valid JSON",
        ),
    ],
    ids=["empty", "binary", "png", "version-99", "missing", "bad-json-line-2"],
)
def test_bad_input_gives_one_line_and_exit_code_2(
    tmp_path: Path, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    result = run_show(path)
    assert result.returncode == 2
    assert result.stderr.startswith("rtscope: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_connection_is_an_input_error(tmp_path: Path) -> None:
    result = run_show(str(FIXTURES / "beta_g711.jsonl"), "--conn", "nope")
    assert result.returncode == 2
    assert "no connection 'nope' (connections: b)" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    env = {**os.environ}
    result = subprocess.run(
        [sys.executable, "-m", "rtscope", "--debug", "show", str(tmp_path / "missing.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "CaptureError" in result.stderr


def test_help_has_examples() -> None:
    result = run_show("--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "rtscope show cap.jsonl --types" in result.stdout


def test_findings_of_the_analyzers_appear_under_their_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With an ``analyze`` in rtscope.analyzers (written by another part), show prints its
    findings inline. The stand-in returns fixed findings: this tests the plumbing, not rules."""
    import rtscope.analyzers
    from rtscope.analyzers.findings import Finding, Severity

    seen: list[int] = []

    def analyze(records: object) -> list[Finding]:
        seen.append(sum(1 for _ in records))  # type: ignore[attr-defined]
        return [Finding("F-27", Severity.ERROR, "b", 10, None, "never finished", "wait less")]

    monkeypatch.setattr(rtscope.analyzers, "analyze", analyze, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["show", str(FIXTURES / "beta_g711.jsonl")])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if "response.created" in line)
    assert lines[at + 1].strip() == "! error F-27: never finished (fix: wait less)"
    assert seen == [20]  # every record was given to the analyzers (18 messages, open, close)
    assert lines[-1].endswith("findings: 1 error")


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path: Path) -> None:
    """``rtscope show cap.jsonl | head -1``: success, no traceback."""
    from rtscope.capture.codec import message_record
    from rtscope.capture.writer import CaptureWriter

    capture = tmp_path / "long.jsonl"
    with CaptureWriter(capture) as w:  # about 500 kB of output: more than a pipe buffers
        for seq in range(5000):
            event = b'{"type":"error","error":{"code":"x","message":"%d"}}' % seq
            w.write(message_record("1", seq, 1000.0 + seq, False, event, True))
    show = subprocess.Popen(
        [sys.executable, "-m", "rtscope", "show", "--no-findings", str(capture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert show.stdout is not None and show.stderr is not None
    first = show.stdout.readline()
    show.stdout.close()  # like head: read one line and go
    err = show.stderr.read()
    show.stderr.close()
    assert show.wait(timeout=60) == 0
    assert first.startswith("── conn 1".encode())
    assert b"Traceback" not in err
