"""``rtscope replay``: re-send a capture's client side to a server, N times per timing, compare."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from pathlib import Path

import click
import orjson

from ..errors import InputError
from ..report.progress import Bar, steps

__all__ = ["command", "parse_header"]


def parse_header(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition(":")
    if not sep or not name.strip():
        raise InputError("--header", f"bad header {value!r}", hint='use "Name: value"')
    return name.strip(), rest.strip()


@click.command("replay")
@click.argument("capture", type=click.Path())
@click.option("--target", required=True, help="WebSocket URL to send to (ws:// or wss://).")
@click.option("--conn", default=None, help="Connection of the capture to replay.")
@click.option("--timing", default="original", show_default=True,
              help="original, ack or asap; a comma list runs each (original,ack).")  # fmt: skip
@click.option("--speed", type=float, default=1.0, show_default=True, help="Time divisor.")
@click.option("--repeat", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Runs per timing.")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="replays",
              show_default=True, help="Where each run's capture goes.")  # fmt: skip
@click.option("--header", "headers", multiple=True, help='"Name: value" (repeatable).')
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")  # fmt: skip
def command(
    capture: str,
    target: str,
    conn: str | None,
    timing: str,
    speed: float,
    repeat: int,
    out_dir: str,
    headers: tuple[str, ...],
    fmt: str,
) -> None:
    """Replay CAPTURE's client messages against --target and record each run.

    Credentials come from OPENAI_API_KEY or --header, never from the capture. With --repeat N
    the analyzers run over the original and every run, and a table shows how often each finding
    came back.

    \b
    Examples:
      rtscope replay cap.jsonl --target ws://127.0.0.1:8800/v1/realtime
      rtscope replay cap.jsonl --target ws://127.0.0.1:8800 --repeat 5 --timing original,ack
      rtscope replay cap.jsonl --target wss://api.openai.com/v1/realtime --conn 2 --speed 2
      rtscope replay cap.jsonl --target ws://127.0.0.1:8800 --format json --out runs/

    Exit codes: 0 every run finished (findings are in the table), 2 bad capture or option,
    3 the target could not be reached.
    """
    from ..replay.client import build_headers
    from ..replay.plan import parse_timings
    from ..replay.recording import load_recording
    from ..replay.runner import format_report, load_analyzer, run

    if not target.startswith(("ws://", "wss://")):
        raise InputError("--target", f"not a WebSocket URL: {target!r}", hint="ws://host:port/…")
    if speed <= 0:
        raise InputError("--speed", "must be above 0")
    try:
        timings = parse_timings(timing)
    except ValueError as exc:
        raise InputError("--timing", str(exc)) from None
    extra = [parse_header(h) for h in headers]
    recording = load_recording(capture, conn)
    analyzer = load_analyzer()

    runs = len(timings) * repeat
    # A bar counting runs when there are several (each run lasts as long as the session did).
    with steps(runs, "replaying") if runs > 1 else nullcontext(Bar()) as bar:

        def say(line: str) -> None:
            click.echo(line, err=fmt == "json")
            bar()

        report = asyncio.run(
            run(
                recording,
                target,
                Path(out_dir),
                timings=timings,
                repeat=repeat,
                speed=speed,
                headers=build_headers(recording, extra),
                analyzer=analyzer,
                progress=say,
            )
        )
    if fmt == "json":
        click.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(format_report(report))
