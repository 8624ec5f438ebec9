"""Run the real ``rtscope`` entry point in a subprocess: exit codes and stderr as users see."""

from __future__ import annotations

import subprocess
import sys


def rtscope(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
