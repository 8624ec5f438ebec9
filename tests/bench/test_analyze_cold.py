"""The ``-X importtime`` parser of analyze_cold: per-package cumulative time, nesting respected."""

from __future__ import annotations

import subprocess
import sys

import analyze_cold
import pytest

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |     json.decoder
import time:        50 |        150 |   json
import time:       200 |        200 |     pydantic.main
import time:       300 |        500 |   pydantic
import time:       400 |       1050 | openai
import time:        70 |         70 | click
"""


def test_import_times_sums_outermost_lines_per_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 0, "", SAMPLE)

    monkeypatch.setattr(analyze_cold.subprocess, "run", fake_run)
    per, total = analyze_cold.import_times(["-c", "pass"])
    assert per["openai"] == pytest.approx(1050e-6)
    assert per["pydantic"] == pytest.approx(500e-6)  # nested in openai, shown on its own
    assert per["json"] == pytest.approx(150e-6)
    assert per["click"] == pytest.approx(70e-6)
    assert total == pytest.approx(1120e-6)  # depth-0 lines only


def test_import_times_of_a_real_interpreter_sees_the_imported_package() -> None:
    per, total = analyze_cold.import_times(["-c", "import json"])
    assert per.get("json", 0) > 0 and total >= per["json"]
    assert sys.executable  # the same interpreter ran it
