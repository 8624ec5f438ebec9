"""A short, bounded atheris (libFuzzer) run of each target of tests/fuzz/atheris_targets.py.

2000 coverage-guided runs per target, starting from the repository's fixtures, in a subprocess
(libFuzzer exits the process when done). A crash (any exception but CaptureError) makes libFuzzer
exit non-zero with the input; a hang hits the timeout. Longer runs: ``make fuzz``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

SCRIPT = Path(__file__).with_name("atheris_targets.py")
RUNS = 2000


@pytest.mark.parametrize("target", ["reader", "importers", "analyzer"])
def test_atheris_target_runs_without_a_crash(target: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            target,
            f"-runs={RUNS}",
            "-timeout=10",
            "--seed-corpus",
            str(tmp_path / "corpus"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # libFuzzer counts the seed corpus's inputs too, so "Done 2013 runs" is a complete run.
    ran = re.search(r"^Done (\d+) runs in \d+ second", done.stderr, re.M)
    assert ran is not None and int(ran.group(1)) >= RUNS, done.stderr[-2000:]
