"""``rtscope analyze``: findings for captures, directories, HAR/flow files, pasted logs or stdin.

Thin shell: expand the paths, read each input with :func:`rtscope.capture.sources.open_source`,
run :func:`rtscope.analyzers.analyze`, print with :mod:`rtscope.analyzers.output`. An unreadable
input is reported on stderr as one line (file, line, problem) and the others are still
analyzed; the exit code is then 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
import orjson

from ..analyzers import Severity, analyze
from ..analyzers.output import InputResult, json_document, text_report
from ..capture.sources import open_source
from ..errors import CaptureError, InputError
from ..report.progress import Bar, byte_progress, counted_input, total_size

#: files picked up when a directory is given (anything else in it is left alone)
INPUT_SUFFIXES = (
    ".jsonl",
    ".ndjson",
    ".gz",
    ".json",
    ".har",
    ".mitm",
    ".txt",
    ".log",
    ".yaml",
    ".yml",
)


#: Read audio events with their base64 counted instead of parsed (``CaptureReader(count_audio=)``)?
#: No rule reads the samples, but measured it is slower: orjson parses a 6.5 KB append in 2.4 µs
#: and a 4 KB delta in 2.0 µs, most of it building the record's dict, which counting still does
#: (on the rest of the line) after Python-level searches for the audio: 2.7 and 3.2 µs. The
#: analysis is exact either way (tests/analyzers/test_engine.py). See docs/performance.md.
COUNT_AUDIO = False


def expand(paths: tuple[str, ...]) -> list[str]:
    """Files to read, in a stable order: directories recursively (sorted), ``-`` kept as is."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw)
        if raw != "-" and p.is_dir():
            found = sorted(
                str(f)
                for f in p.rglob("*")
                if f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name.lower().endswith(INPUT_SUFFIXES)
            )
            if not found:
                raise InputError(
                    raw,
                    "directory holds no capture files",
                    hint="expected " + ", ".join(f"*{s}" for s in INPUT_SUFFIXES),
                )
            out += found
        else:
            out.append(raw)
    return out


def _names(values: tuple[str, ...]) -> list[str] | None:
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


class _Counter:
    """Counts connections and messages while records stream through."""

    def __init__(self, records: Any) -> None:
        self._records = records
        self.conns: set[str] = set()
        self.messages = 0
        self.first_t: dict[str, float] = {}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        conns, first_t = self.conns, self.first_t
        messages = 0
        try:
            for rec in self._records:
                kind = rec.get("kind")
                if kind == "msg":
                    messages += 1
                elif kind != "open" and kind != "close":
                    yield rec
                    continue
                conn = rec.get("conn", "0")
                if conn not in first_t:  # per record, only this; the rest once per connection
                    conn = str(conn)
                    conns.add(conn)
                    t = rec.get("t")
                    if isinstance(t, int | float) and conn not in first_t:
                        first_t[conn] = float(t)
                yield rec
        finally:
            self.messages += messages


def run(
    paths: list[str],
    select: list[str] | None,
    ignore: list[str] | None,
    debug: bool,
    bar: Bar | None = None,
) -> tuple[list[InputResult], list[str]]:
    """Analyze every input; returns the results and the one-line errors of unreadable inputs.

    ``bar`` (from :func:`rtscope.report.progress.byte_progress`) moves with the bytes read.
    """
    results: list[InputResult] = []
    errors: list[str] = []
    bar = bar or Bar()
    for path in paths:
        name = "<stdin>" if path == "-" else path
        result = InputResult(name)
        bar.describe(name)
        try:
            with counted_input(path, bar) if path != "-" else nullcontext(sys.stdin.buffer) as src:
                source: Any = src
                reader = open_source(source, name, count_audio=COUNT_AUDIO)
                counter = _Counter(reader)
                result.findings = analyze(counter, select=select, ignore=ignore)
            if not counter.conns:
                raise CaptureError(name, "no events in this input", hint="is it an empty capture?")
        except CaptureError as exc:
            if debug:
                raise
            errors.append(str(exc))
            results.append(InputResult(name, error=str(exc)))
            continue
        result.connections = len(counter.conns)
        result.messages = counter.messages
        result.first_t = counter.first_t
        result.problems = [str(p) for p in getattr(reader, "problems", [])]
        results.append(result)
    return results, errors


def check_rule_names(select: list[str] | None, ignore: list[str] | None) -> None:
    """One line, exit 2, naming the known rules, for an unknown name in --select / --ignore."""
    from ..analyzers.registry import all_rules

    known = sorted(r.name for r in all_rules())
    for option, names in (("--select", select), ("--ignore", ignore)):
        unknown = [n for n in names or () if n not in known]
        if unknown:
            raise InputError(
                option,
                f"unknown rule{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                hint="known rules: " + ", ".join(known),
            )


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--select", multiple=True, help="Only these rules (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, help="Skip these rules (comma-separated, repeatable).")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity.",
)
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks.")
@click.pass_context
def command(
    ctx: click.Context,
    paths: tuple[str, ...],
    fmt: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str,
    debug: bool,
) -> int:
    """Find protocol problems in captures, HAR files, flows or pasted logs.

    PATH is a capture file (plain or .gz), a HAR file, a mitmproxy flow file, a pasted log, a
    directory (read recursively, in a stable order), or - for stdin. Exit code: 0 no finding at
    or above --fail-on, 1 findings, 2 bad input or unknown rule name.

    \b
    Examples:
      rtscope analyze captures/
      rtscope analyze cap.jsonl --format json --fail-on warning
      rtscope analyze forum-post.txt --ignore missing-ack,rate-limit-low
      rtscope analyze session.har flows.mitm --select text-only-response --fail-on never
      pbpaste | rtscope analyze -                     # events pasted from a forum post
    """
    debug = debug or bool((ctx.obj or {}).get("debug"))
    chosen, skipped = _names(select), _names(ignore)
    check_rule_names(chosen, skipped)
    files = expand(paths)
    sizes = total_size([f for f in files if f != "-"])
    with byte_progress(sizes if "-" not in files else None, description="analyzing") as bar:
        results, errors = run(files, chosen, skipped, debug, bar)
    for res in results:
        for problem in res.problems:
            click.echo(f"rtscope: {problem}", err=True)
    for err in errors:
        click.echo(f"rtscope: {err}", err=True)
    if fmt == "json":
        sys.stdout.buffer.write(orjson.dumps(json_document(results), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
    else:
        from rich.console import Console

        Console(width=80, highlight=False, emoji=False, soft_wrap=False).print(text_report(results))
    if errors:
        return 2
    if fail_on == "never":
        return 0
    threshold = Severity.parse(fail_on)
    failing = any(f.severity >= threshold for r in results for f in r.findings)
    return 1 if failing else 0
