"""``rtscope report``: one self-contained HTML file for one or more captures."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from ..analyzers.findings import Finding
from ..capture.codec import Record
from ..capture.sources import Source, open_source
from ..errors import InputError
from ..report.analysis import analyzers_available, find_issues
from ..report.html import render_html
from ..report.model import DEFAULT_MAX_AUDIO_S, DEFAULT_MAX_EVENTS, build_report
from ..report.progress import Bar, byte_progress, counted_input, total_size


def _expand(paths: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(str(f) for f in path.iterdir() if f.is_file() and ".jsonl" in f.name)
            if not found:
                raise InputError(p, "directory holds no capture (*.jsonl, *.jsonl.gz)")
            out.extend(found)
        else:
            out.append(p)
    return out


def _findings(paths: list[str], bar: Bar) -> list[Finding]:
    """The analyzers' findings for each file; with several files, ``conn`` is ``file#conn``."""
    out: list[Finding] = []
    several = len(paths) > 1
    for path in paths:
        bar.describe(f"analyzing {path}")
        with counted_input(path, bar) as source:
            found = find_issues(open_source(source, path))
        for f in found:
            if several:
                f = dataclasses.replace(f, conn=f"{path}#{f.conn}")
            out.append(f)
    return out


def _sources(
    paths: list[str], bar: Bar, readers: list[Source]
) -> Iterator[tuple[str, Iterator[Record]]]:
    """Each file's records, read lazily (one file open at a time); ``readers`` collects them."""
    for path in paths:
        bar.describe(f"reading {path}")
        with counted_input(path, bar) as source:
            reader = open_source(source, path)
            readers.append(reader)
            yield reader.name, iter(reader)


@click.command(
    "report",
    epilog="""\b
Examples:
  rtscope report cap.jsonl -o report.html
  rtscope report captures/ -o all.html             # every capture in a directory
  rtscope report a.jsonl b.jsonl.gz -o bug-1234.html --title "Bug 1234: no audio"
  rtscope report long.jsonl -o r.html --max-events 5000 --max-audio-seconds 60
  zcat cap.jsonl.gz | rtscope report - -o r.html     # standard input
""",
)
@click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")
@click.option(
    "-o",
    "--output",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The HTML file to write (created 0600: it holds transcripts and audio).",
)
@click.option("--title", default="rtscope report", help="Title of the page.")
@click.option(
    "--findings/--no-findings",
    "run_analyzers",
    default=True,
    help="Run the analyzers and list their findings (default) or skip them.",
)
@click.option(
    "--max-events",
    default=DEFAULT_MAX_EVENTS,
    show_default=True,
    type=click.IntRange(min=0),
    help="List at most this many events (the rest are counted, not listed).",
)
@click.option(
    "--max-audio-seconds",
    default=DEFAULT_MAX_AUDIO_S,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Embed at most this many seconds of audio, all players together, in event order.",
)
def command(
    captures: tuple[str, ...],
    output: str,
    title: str,
    run_analyzers: bool,
    max_events: int,
    max_audio_seconds: float,
) -> None:
    """Write a self-contained HTML report of CAPTURE(s): findings, session config over time, a
    timeline of both directions with responses colored by outcome, turn latency, audio players
    and every event's JSON. The page makes no network request; send it with a bug report.

    Exit codes: 0 written (findings do not change it), 2 unreadable or empty input, or the
    output cannot be written.
    """
    readers: list[Source] = []
    if "-" in captures:
        if len(captures) > 1:
            raise InputError("-", "standard input cannot be mixed with files", hint="pass one")
        # Standard input is read once: keep its records for both passes.
        stdin = open_source(sys.stdin.buffer, "<stdin>")
        records = list(stdin)
        findings = find_issues(records) if run_analyzers else []
        readers.append(stdin)
        sources: Iterable[tuple[str, Iterable[Record]]] = [(stdin.name, records)]
        report = build_report(
            sources, findings, max_events=max_events, max_audio_s=max_audio_seconds
        )
    else:
        paths = _expand(captures)
        analyzing = run_analyzers and analyzers_available()
        size = total_size(paths)
        # A byte-based bar over both passes: the analyzers' and the report's.
        total = size * (2 if analyzing else 1) if size is not None else None
        with byte_progress(total, "reading") as bar:
            findings = _findings(paths, bar) if analyzing else []
            report = build_report(
                _sources(paths, bar, readers),
                findings,
                max_events=max_events,
                max_audio_s=max_audio_seconds,
            )
    for reader in readers:
        report.problems.extend(str(p) for p in reader.problems)
    if report.events_total == 0:
        names = ", ".join(r.name for r in readers)
        raise InputError(names, "no events in this input", hint="is it an empty capture?")
    page = render_html(report, title=title)
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_TRUNC: make it private
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise InputError(
            output, f"cannot write the report: {exc.strerror}", hint="check the -o path"
        ) from None
    click.echo(
        f"wrote {output}: {len(report.conns)} connection(s), {report.events_total} events, "
        f"{len(report.findings)} finding(s), {len(page) // 1024} KiB",
        err=True,
    )
