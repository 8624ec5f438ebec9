"""``rtscope import FILE... -o CAPTURE``: HAR, mitmproxy flows and pasted logs into capture v1."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO

import click

from ..capture.codec import Record
from ..capture.sources import open_source
from ..capture.writer import CaptureWriter
from ..errors import InputError
from ..report.progress import Bar, byte_progress, counted_input, total_size

__all__ = ["command", "import_files"]


def import_files(
    inputs: list[tuple[str | os.PathLike[str] | IO[bytes], str]],
    output: str | os.PathLike[str],
    bar: Bar | None = None,
) -> tuple[int, int, list[str]]:
    """Convert ``inputs`` ((source, name) pairs) into one capture at ``output``.

    Returns (connections, messages, warnings). Connection ids that repeat across inputs get a
    ``.N`` suffix. On bad input the partial output is removed and the CaptureError re-raised.
    ``bar`` (from :func:`rtscope.report.progress.byte_progress`) moves with the bytes read.
    """
    bar = bar or Bar()
    with contextlib.ExitStack() as stack:
        counted = [
            (
                stack.enter_context(counted_input(source, bar))
                if isinstance(source, str | os.PathLike)
                else source,
                name,
            )
            for source, name in inputs
        ]
        return _import(counted, output, bar)


def _import(
    inputs: list[tuple[str | os.PathLike[str] | IO[bytes], str]],
    output: str | os.PathLike[str],
    bar: Bar,
) -> tuple[int, int, list[str]]:
    readers = [open_source(source, name) for source, name in inputs]  # sniffs; reads nothing more
    kinds = [getattr(reader, "kind", "capture") for reader in readers]
    try:
        writer = CaptureWriter(
            output,
            header={
                "imported_from": [
                    {"name": name, "kind": kind}
                    for (_, name), kind in zip(inputs, kinds, strict=True)
                ]
            },
        )
    except FileExistsError:
        raise InputError(
            str(output), "already exists", hint="captures are never overwritten; pick a new name"
        ) from None
    except OSError as exc:
        raise InputError(str(output), f"cannot create: {exc.strerror}") from None
    used: set[str] = set()
    conns = 0
    messages = 0
    warnings: list[str] = []
    try:
        for number, reader in enumerate(readers, 1):
            bar.describe(reader.name)
            renamed: dict[str, str] = {}
            for record in reader:
                record = _rename(record, renamed, used, number)
                if record.get("kind") == "msg":
                    messages += 1
                writer.write(record)
            if not renamed:
                raise InputError(
                    reader.name, "no events in this input", hint="is it an empty capture?"
                )
            conns += len(renamed)
            warnings.extend(str(problem) for problem in reader.problems)
    except BaseException:
        writer.close()
        with contextlib.suppress(OSError):
            os.unlink(output)
        raise
    writer.close()
    return conns, messages, warnings


def _rename(record: Record, renamed: dict[str, str], used: set[str], number: int) -> Record:
    conn = record.get("conn")
    if not isinstance(conn, str):
        return record
    new = renamed.get(conn)
    if new is None:
        new = conn
        suffix = number
        while new in used:
            new = f"{conn}.{suffix}"
            suffix += 1
        used.add(new)
        renamed[conn] = new
    if new != conn:
        record = {**record, "conn": new}
    return record


@click.command(
    "import",
    epilog="""\b
Examples:
  rtscope import session.har -o captures/session.jsonl
  rtscope import flows.mitm -o flows.jsonl          # mitmdump -w output
  pbpaste | rtscope import - -o forum-post.jsonl    # events pasted from a forum post
""",
)
@click.argument("files", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The capture file to write (must not exist).",
)
def command(files: tuple[str, ...], output: str) -> None:
    """Convert HAR files (Chrome, mitmproxy, HTTP Toolkit, Playwright), mitmproxy flow files and
    pasted logs (JSON, Python or JavaScript objects, YAML) into one capture, so every command
    works on them. FILE may be '-' for standard input.

    Exit codes: 0 written (parts that could not be read are skipped with a warning), 2 unreadable
    input or an output that exists or cannot be created.
    """
    inputs: list[tuple[str | os.PathLike[str] | IO[bytes], str]] = [
        (sys.stdin.buffer, "<stdin>") if name == "-" else (name, name) for name in files
    ]
    paths = [name for name in files if name != "-"]
    with byte_progress(total_size(paths) if len(paths) == len(files) else None, "importing") as bar:
        conns, messages, warnings = import_files(inputs, output, bar)
    for warning in warnings:
        click.echo(f"rtscope: warning: {warning}", err=True)
    click.echo(
        f"wrote {output}: {conns} connection{'s' if conns != 1 else ''}, "
        f"{messages} message{'s' if messages != 1 else ''} from {len(inputs)} input"
        f"{'s' if len(inputs) != 1 else ''}"
        + (f" ({len(warnings)} part(s) skipped, see above)" if warnings else "")
    )
