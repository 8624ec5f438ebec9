"""``rtscope export CAPTURE --har FILE --wav DIR``: a capture as HAR and/or WAV files."""

from __future__ import annotations

import os
import sys

import click

from ..capture.codec import Record
from ..capture.sources import open_source
from ..errors import InputError
from ..report.har import header_time, write_har
from ..report.progress import byte_progress, counted_input, total_size, track
from ..report.wav import export_wav

__all__ = ["command"]


#: records between two moves of the bar while writing
EVERY = 500


def _records(capture: str) -> tuple[list[Record], list[str], float | None]:
    if capture == "-":
        reader = open_source(sys.stdin.buffer, "<stdin>")
        records = list(reader)
    else:
        with (
            byte_progress(total_size([capture]), f"reading {capture}") as bar,
            counted_input(capture, bar) as source,
        ):
            reader = open_source(source, capture)
            records = list(reader)
    if not any(record.get("kind") in ("open", "msg") for record in records):
        raise InputError(reader.name, "no events in this input", hint="is it an empty capture?")
    return records, [str(problem) for problem in reader.problems], header_time(reader.header)


@click.command(
    "export",
    epilog="""\b
Examples:
  rtscope export cap.jsonl --har cap.har        # open in Chrome DevTools or HTTP Toolkit
  rtscope export cap.jsonl --wav audio/         # input stream and each assistant item
  rtscope export forum-post.txt --har -         # any input rtscope reads; '-' is stdout
""",
)
@click.argument("capture")
@click.option(
    "--har",
    "har_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write a HAR 1.2 file ('-' for stdout).",
)
@click.option(
    "--wav",
    "wav_dir",
    type=click.Path(file_okay=False),
    help="Write WAV files into this directory.",
)
def command(capture: str, har_path: str | None, wav_dir: str | None) -> None:
    """Export a capture (or any input rtscope reads) as HAR, with its WebSocket messages, and/or
    as WAV files: the user's input audio per connection, each assistant audio item and each item
    the client created with input_audio content, named by connection and item id (pcm16 as
    recorded, G.711 decoded to pcm16).

    Exit codes: 0 written, 2 unreadable input, nothing to do, or an output that cannot be written.
    """
    if not har_path and not wav_dir:
        raise click.UsageError("nothing to do: give --har FILE and/or --wav DIR")
    records, warnings, created = _records(capture)
    for warning in warnings:
        click.echo(f"rtscope: warning: {warning}", err=True)
    if har_path:
        if har_path == "-":
            summary = write_har(records, sys.stdout.buffer, created)
        else:
            try:
                summary = write_har(
                    track(records, description="writing HAR", every=EVERY), har_path, created
                )
            except OSError as exc:
                raise InputError(har_path, f"cannot write: {exc.strerror}") from None
        note = f", {summary.untimed} without a time" if summary.untimed else ""
        click.echo(
            f"wrote {har_path}: {summary.entries} WebSocket "
            f"entr{'y' if summary.entries == 1 else 'ies'}, {summary.messages} messages{note}",
            err=har_path == "-",
        )
    if wav_dir:
        try:
            result = export_wav(track(records, description="writing WAV", every=EVERY), wav_dir)
        except OSError as exc:
            raise InputError(wav_dir, f"cannot write: {exc.strerror}") from None
        if result.written:
            width = max(len(str(w.path)) for w in result.written)
            click.echo(f"{'file':<{width}}  {'seconds':>8}  {'bytes':>10}  format")
            for written in result.written:
                click.echo(
                    f"{str(written.path):<{width}}  {written.seconds:>8.2f}  "
                    f"{written.size:>10}  {written.track.fmt.label}"
                )
        for note in result.notes:
            click.echo(f"note: {note}")
        click.echo(
            f"wrote {len(result.written)} WAV file{'s' if len(result.written) != 1 else ''} "
            f"into {os.fspath(wav_dir)}"
        )
