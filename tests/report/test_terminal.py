"""rtscope.report.terminal: line layout, inline findings, colors and width on a terminal."""

from __future__ import annotations

import io
import re

import pytest

from rtscope.analyzers.findings import Finding, Severity
from rtscope.report.terminal import TimelinePrinter
from rtscope.report.timeline import Row


def rows() -> list[Row]:
    failed = Finding("F-25", Severity.ERROR, "1", 7, None, "Response failed", "retry later")
    note = Finding("F-37", Severity.WARNING, "1", None, None, "closed abnormally")
    return [
        Row("open", "1", 0.0, None, "open", "wss://x status=101"),
        Row("msg", "1", 1.5, "client", "response.create", ""),
        Row(
            "msg",
            "1",
            2.25,
            "server",
            "response.output_audio.delta",
            "2.3 s audio  in 1.1 s",
            count=41,
        ),
        Row(
            "msg",
            "1",
            3.0,
            "server",
            "response.done",
            "status=failed " + "x" * 300,
            seq=7,
            findings=[failed],
        ),
        Row("finding", "1", None, findings=[note]),
        Row("msg", "2", 0.5, "server", "session.created", ""),
    ]


def test_plain_layout_with_arrows_counts_and_inline_findings() -> None:
    out = io.StringIO()
    printer = TimelinePrinter(out)
    printer.print_rows(rows())
    printer.print_footer("cap.jsonl", ["cap.jsonl:9: last line is truncated and was skipped"])
    lines = out.getvalue().splitlines()
    assert lines[0] == "── conn 1"
    assert lines[1] == "    0.000  • open  wss://x status=101"
    assert lines[2] == "    1.500  → response.create"
    assert lines[3] == "    2.250  ← response.output_audio.delta ×41  2.3 s audio  in 1.1 s"
    assert lines[4].startswith("    3.000  ← response.done  status=failed xxx")
    assert len(lines[4]) == len("    3.000  ← response.done  ") + 200  # trimmed in the middle
    assert "…" in lines[4]
    assert lines[5] == "           ! error F-25: Response failed (fix: retry later)"
    assert lines[6] == "        -  ! warning F-37: closed abnormally"
    assert lines[7] == "── conn 2"
    assert lines[9] == "note: cap.jsonl:9: last line is truncated and was skipped"
    assert lines[10] == "cap.jsonl: 44 events in 5 lines, findings: 1 error, 1 warning"
    assert "\x1b[" not in out.getvalue()


def test_on_a_terminal_lines_fit_the_width_and_have_colors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    printer = TimelinePrinter(out, color=True)
    printer.print_rows(rows())
    text = out.getvalue()
    assert "\x1b[" in text
    plain = [line for line in strip_ansi(text).splitlines() if "response.done" in line]
    assert len(plain[0]) <= 60


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_control_characters_from_the_capture_cannot_reach_the_terminal() -> None:
    out = io.StringIO()
    evil = "\x1b[2J\x1b]0;owned\x07\x9b31m\r\x7f"
    finding = Finding(evil, Severity.ERROR, evil, 1, None, evil, evil)
    printer = TimelinePrinter(out, color=True)
    printer.print_rows([Row("msg", evil, 0.0, "server", evil, evil, findings=[finding])])
    printer.print_footer(evil, [evil])
    shown = strip_ansi(out.getvalue())  # rich's own color codes removed
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", shown)
    assert "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x0d\\x7f" in shown
