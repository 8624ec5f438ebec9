"""The recorder's output never blocks the proxy, even when nobody reads it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time


def test_a_full_unread_stderr_pipe_does_not_block_the_caller() -> None:
    # A child process says 5 000 lines on a stderr pipe that the parent does not read (the pipe
    # holds 64 KiB): say() must return at once every time; extra lines are dropped and counted.
    code = textwrap.dedent(
        """
        import time
        from rtscope.proxy.alarm import Alarm
        alarm = Alarm()
        began = time.monotonic()
        for i in range(5000):
            alarm.say(f"[text-only-response] conn{i:05d}: " + "x" * 200)
        print(f"{time.monotonic() - began:.3f}", flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # returns although stderr was never read
        proc.kill()
    elapsed = float(line)
    assert elapsed < 5.0  # generous: a blocking print would never return at all


def test_lines_are_all_written_when_the_reader_keeps_up(tmp_path: object) -> None:
    code = textwrap.dedent(
        """
        from rtscope.proxy.alarm import Alarm
        alarm = Alarm()
        for i in range(300):
            alarm.say(f"line {i}")
        alarm.flush()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert result.stderr.splitlines() == [f"line {i}" for i in range(300)]


def test_an_explicit_stream_is_written_at_once() -> None:
    import io

    from rtscope.proxy.alarm import Alarm

    stream = io.StringIO()
    Alarm(stream).say("now")
    assert stream.getvalue() == "now\n"
    time.sleep(0)
