"""``rtscope show``: a capture as a terminal timeline (see rtscope.report.timeline)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from ..capture.codec import Record
from ..capture.sources import open_source
from ..errors import InputError
from ..report.analysis import analyzers_available, find_issues
from ..report.progress import byte_progress, counted_input, total_size
from ..report.terminal import TimelinePrinter
from ..report.timeline import timeline


@click.command(
    "show",
    epilog="""\b
Examples:
  rtscope show captures/20261121T101500Z_gpt-realtime_1.jsonl
  rtscope show cap.jsonl --types 'response.*'          # only response events
  rtscope show cap.jsonl --types 'session.*,error'     # several globs, comma-separated
  rtscope show cap.jsonl --conn 2 --no-collapse        # one connection, every delta on its line
  rtscope show cap.jsonl | less                        # plain text when piped
  cat cap.jsonl | rtscope show -                       # read standard input
""",
)
@click.argument("capture", metavar="CAPTURE")
@click.option("--conn", "conn", metavar="ID", help="Show only this connection.")
@click.option(
    "--types",
    "types",
    metavar="GLOB",
    multiple=True,
    help="Show only event types matching GLOB (fnmatch; repeat or comma-separate).",
)
@click.option(
    "--no-collapse",
    is_flag=True,
    help="Print every delta on its own line instead of one line per run.",
)
@click.option(
    "--findings/--no-findings",
    default=True,
    help="Run the analyzers and print their findings inline (default) or skip them.",
)
@click.option(
    "--color/--no-color",
    "color",
    default=None,
    help="Force colors on or off (default: on a terminal only).",
)
def command(
    capture: str,
    conn: str | None,
    types: tuple[str, ...],
    no_collapse: bool,
    findings: bool,
    color: bool | None,
) -> None:
    """Print CAPTURE as a timeline, one line per event.

    Each line gives the seconds since the connection opened, the direction (→ client to server,
    ← server to client), the event type and what matters in it. Runs of deltas collapse into one
    line; findings of the analyzers appear under the message that shows them.

    Exit codes: 0 printed, 2 unreadable or empty capture, or no such --conn.
    """
    globs = [g.strip() for spec in types for g in spec.split(",") if g.strip()]
    if capture == "-":
        # Standard input can be read once: keep its records for both passes.
        stdin = open_source(sys.stdin.buffer, "<stdin>")
        records: list[Record] = list(stdin)
        found = find_issues(records) if findings else []
        source, display = stdin, iter(records)
    else:
        found = []
        if findings and analyzers_available():
            # A bar on a terminal's stderr while the analyzers read a long capture.
            with (
                byte_progress(total_size([capture]), "analyzing") as bar,
                counted_input(capture, bar) as counted,
            ):
                found = find_issues(open_source(counted, capture))
        source = open_source(capture)
        display = iter(source)
    seen_conns: set[str] = set()

    def tracked() -> Iterator[Record]:
        for record in display:
            cid = record.get("conn")
            if isinstance(cid, str):
                seen_conns.add(cid)
            yield record

    printer = TimelinePrinter(sys.stdout, color=color)
    printer.print_rows(timeline(tracked(), found, conn=conn, types=globs, collapse=not no_collapse))
    if not seen_conns:
        raise InputError(source.name, "no events in this file", hint="is it an empty capture?")
    if conn is not None and conn not in seen_conns:
        listed = ", ".join(sorted(seen_conns))
        raise InputError(source.name, f"no connection {conn!r}", hint=f"connections: {listed}")
    printer.print_footer(source.name, [str(p) for p in source.problems])
