"""``rtscope report``: writes one private HTML file; bad input is one line, exit code 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "report" / "fixtures"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", "report", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_report_writes_a_private_self_contained_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run(
        str(FIXTURES / "ga_voice.jsonl"), str(FIXTURES / "beta_g711.jsonl"), "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "data-conns='2'" in page
    assert result.stdout == ""
    assert result.stderr.startswith(f"wrote {out}: 2 connection(s)")


def test_report_accepts_a_directory_of_captures(tmp_path: Path) -> None:
    captures = tmp_path / "caps"
    captures.mkdir()
    for name in ("beta_g711.jsonl", "seed000_modality_switch.jsonl"):
        (captures / name).write_bytes((FIXTURES / name).read_bytes())
    (captures / "notes.txt").write_text("not a capture")
    out = tmp_path / "all.html"
    result = run(str(captures), "-o", str(out), "--title", "Bug <1234>")
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "data-conns='2'" in page
    assert "<title>Bug &lt;1234&gt;</title>" in page


def test_limits_are_stated_in_the_page(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run(
        str(FIXTURES / "ga_voice.jsonl"),
        "-o",
        str(out),
        "--max-events",
        "10",
        "--max-audio-seconds",
        "1",
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "data-events='10'" in page
    assert "more events are not listed" in page
    assert "first 1.0 s kept in this page" in page
    assert "not embedded: the page's audio budget was used" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no events in this input"),
        (bytes(range(256)), ":1: binary data, not a capture"),
        (
            b'{"kind":"header","format":"rtscope.capture","version":99}\n',
            ":1: capture format version 99",
        ),
        (None, ": no such file"),
    ],
    ids=["empty", "binary", "version-99", "missing"],
)
def test_bad_input_is_one_line_with_exit_code_2(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "in.jsonl"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "r.html"
    result = run(str(path), "-o", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rtscope: {path}")
    assert message in lines[0]
    assert not out.exists()


def test_an_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    result = run(str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert "directory holds no capture" in result.stderr


def test_help_has_examples() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert (
        "Examples:" in result.stdout and "rtscope report cap.jsonl -o report.html" in result.stdout
    )


def test_findings_of_the_analyzers_are_listed_at_the_top(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A stand-in ``rtscope.analyzers.analyze`` (the analyzers are another part) returns fixed
    findings; with two captures, each finding is tied to its own file's connection."""
    import rtscope.analyzers
    from rtscope.analyzers.findings import Finding, Severity
    from rtscope.cli import main

    def analyze(records: object) -> list[Finding]:
        conns = {r.get("conn") for r in records}  # type: ignore[attr-defined]
        return [Finding("F-99", Severity.WARNING, c, 0, None, f"first of {c}") for c in conns if c]

    monkeypatch.setattr(rtscope.analyzers, "analyze", analyze, raising=False)
    out = tmp_path / "r.html"
    ga, beta = str(FIXTURES / "ga_voice.jsonl"), str(FIXTURES / "beta_g711.jsonl")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", ga, beta, "-o", str(out)])
    assert exit_info.value.code == 0
    page = out.read_text(encoding="utf-8")
    assert "data-findings='2'" in page
    findings = page.split("id='findings'")[1].split("</section>")[0]
    assert "first of 1" in findings and "first of b" in findings
    assert findings.count("href='#ev-") == 2


def test_an_unwritable_output_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "r.html"
    result = run(str(FIXTURES / "beta_g711.jsonl"), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"rtscope: {out}: cannot write the report: No such file or directory (check the -o path)"
    )


def test_an_existing_output_file_becomes_private(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("old")
    out.chmod(0o644)
    assert run(str(FIXTURES / "beta_g711.jsonl"), "-o", str(out)).returncode == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_report_reads_standard_input(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    with open(FIXTURES / "beta_g711.jsonl", "rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "rtscope", "report", "-", "-o", str(out)],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "data-events='20'" in page and "&lt;stdin&gt;" in page
    assert "data-clips='2'" in page


def test_standard_input_cannot_be_mixed_with_files(tmp_path: Path) -> None:
    result = run("-", str(FIXTURES / "beta_g711.jsonl"), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "rtscope: -: standard input cannot be mixed with files (pass one)"
    )
