"""Usage mistakes get one line on stderr, naming the problem and where to look, and exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["analyze"], "Missing argument 'PATHS...'"),
        (["export", "nothing.jsonl"], "give --har FILE and/or --wav DIR"),
        (["analyze", "x.jsonl", "--fail-on", "sometimes"], "Invalid value for '--fail-on'"),
        (["replay", "x.jsonl"], "Missing option '--target'"),
        (["no-such-command"], "No such command 'no-such-command'"),
        (["show", "--bogus", "x"], "No such option '--bogus'"),
    ],
)
def test_usage_error_is_one_line_with_exit_code_2(args: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rtscope", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rtscope: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
