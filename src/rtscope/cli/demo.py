"""``rtscope demo`` (``make demo``): the main job end to end, offline, on 127.0.0.1.

1. the bundled Realtime simulator, scenario ``modality-race`` (``rtscope serve --simulate``);
2. ``rtscope record`` in front of it, with live analysis;
3. a scripted client using the real ``openai`` SDK that does what seed 000 did: switch the session
   to audio and start talking at once;
4. ``rtscope analyze`` on the capture: a text-only response caused by the modality-switch race;
5. ``rtscope replay --repeat N --timing original,ack``: the anomaly comes back with the original
   timing and not when waiting for the acknowledgement, the workaround, proven;
6. ``rtscope show`` and ``rtscope report`` of the capture.

Each step runs the real command in a subprocess and prints it first, so the demo is also a recipe.
Everything is written under ``--out`` (default ``demo-out/``), which is emptied first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click

from ..errors import RtscopeError

__all__ = ["command"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(
    port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RtscopeError(f"demo: {what} exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RtscopeError(f"demo: {what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def _rtscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "rtscope", *args]


def _title(text: str) -> None:
    click.echo()
    click.secho(f"== {text}", bold=True)


def _show(cmd: list[str]) -> None:
    shown = ["rtscope", *cmd[3:]] if cmd[1:3] == ["-m", "rtscope"] else cmd
    click.secho("$ " + shlex.join(shown), fg="cyan")


def _run(cmd: list[str], ok: tuple[int, ...] = (0,)) -> int:
    _show(cmd)
    code = subprocess.call(cmd)
    if code not in ok:
        raise RtscopeError(f"demo: '{shlex.join(cmd[2:])}' exited with code {code}")
    return code


@contextlib.contextmanager
def _background(cmd: list[str], port: int, what: str, log: Path) -> Iterator[None]:
    _show(cmd)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc, what)
        yield
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        click.echo(f"   ({what} log: {log})")


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the captures, replays and report go (emptied first).",
)
@click.option("--repeat", default=5, show_default=True, help="Replay runs per timing.")
def command(out_dir: str, repeat: int) -> None:
    """Run the end-to-end demo offline: simulator, recorder, openai-SDK client, analyze, replay.

    \b
    Examples:
      rtscope demo                                    # everything under demo-out/
      rtscope demo --out /tmp/rtscope-demo --repeat 3

    Exit codes: 0 the demo ran through, 3 a step failed (its log is named).
    """
    from ..replay.demo_client import run_demo_session

    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    captures = out / "captures"
    out.mkdir(parents=True)
    os.chmod(out, 0o700)
    sim_port, rec_port = _free_port(), _free_port()

    _title("1. The Realtime simulator, scenario modality-race (seed 000's bug, on purpose)")
    simulator = _rtscope(
        "serve", "--simulate", "--scenario", "modality-race", "--listen", f"127.0.0.1:{sim_port}"
    )
    with _background(simulator, sim_port, "simulator", out / "simulator.log"):
        _title("2. rtscope record in front of it")
        recorder = _rtscope(
            "record",
            "--upstream",
            f"http://127.0.0.1:{sim_port}",
            "--listen",
            f"127.0.0.1:{rec_port}",
            "--out",
            str(captures),
            "--live",
        )
        with _background(recorder, rec_port, "recorder", out / "recorder.log"):
            _title("3. A client on the openai SDK: text session, switch to audio, talk at once")
            base = f"ws://127.0.0.1:{rec_port}/v1"
            click.echo(f"   AsyncOpenAI(websocket_base_url={base!r}).realtime.connect(...)")
            asyncio.run(run_demo_session(base, dialect="ga"))
        click.echo((out / "recorder.log").read_text(errors="replace"))
        files = sorted(captures.glob("*.jsonl"))
        if not files:
            raise RtscopeError(f"demo: the recorder wrote no capture under {captures}")
        capture = str(files[-1])

        _title("4. What went wrong (exit code 1: an error-level finding)")
        _run(_rtscope("analyze", capture), ok=(0, 1))

        _title("5. The session as a timeline")
        _run(_rtscope("show", capture, "--types", "session.*,response.created,response.done"))

        _title(f"6. Replay it {repeat}× with the original timing and {repeat}× waiting for acks")
        target = f"ws://127.0.0.1:{sim_port}/v1/realtime"
        _run(
            _rtscope(
                "replay",
                capture,
                "--target",
                target,
                "--repeat",
                str(repeat),
                "--timing",
                "original,ack",
                "--out",
                str(out / "replays"),
            ),
            ok=(0, 1),
        )

    _title("7. A report to attach to the bug")
    _run(_rtscope("report", capture, "-o", str(out / "report.html")))
    click.echo()
    click.secho(f"Done. Everything is under {out}/", bold=True)
