"""Progress bars for long commands: shown on a terminal's stderr only, silent otherwise.

Commands that may run longer than a second (analyzing a directory, ``replay --repeat``, exporting
or importing big files) wrap their loop in :func:`track`, or report bytes read through
:func:`byte_progress`. When stderr is not a terminal (a pipe, a file, CI, a test) nothing is
drawn and the overhead is one ``isatty`` call, so callers never need to check themselves.

    from rtscope.report.progress import track, byte_progress

    for path in track(paths, description="analyzing"):
        ...

    with byte_progress(total=os.path.getsize(p), description="importing") as advance:
        for chunk in chunks:
            advance(len(chunk))

The bar is transient (erased when done) so the command's own output stays clean.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

__all__ = ["byte_progress", "progress_enabled", "track"]

T = TypeVar("T")

#: Set to ``0`` to never draw a bar, ``1`` to draw one even when stderr is not a terminal
#: (for screenshots and demos). Unset: draw only on a terminal.
ENV_VAR = "RTSCOPE_PROGRESS"


def progress_enabled(stream: IO[str] | None = None) -> bool:
    """Whether a progress bar would be drawn on ``stream`` (default: ``sys.stderr``)."""
    forced = os.environ.get(ENV_VAR)
    if forced == "0":
        return False
    if forced == "1":
        return True
    target = sys.stderr if stream is None else stream
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def track(
    iterable: Iterable[T],
    total: float | None = None,
    description: str = "working",
    *,
    stream: IO[str] | None = None,
) -> Iterator[T]:
    """Iterate over ``iterable``, drawing a bar on a terminal's stderr.

    ``total`` defaults to ``len(iterable)`` when it has one; without a total the bar shows a count
    and a spinner-like pulse.
    """
    if not progress_enabled(stream):
        yield from iterable
        return
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    with _progress(stream) as progress:
        task = progress.add_task(description, total=total)
        for item in iterable:
            yield item
            progress.advance(task)


@contextmanager
def byte_progress(
    total: int | None,
    description: str = "reading",
    *,
    stream: IO[str] | None = None,
) -> Iterator[Callable[[int], None]]:
    """A context manager giving ``advance(n_bytes)``; draws a byte-based bar on a terminal.

    Off a terminal ``advance`` is a no-op function, cheap to call per line or chunk.
    """
    if not progress_enabled(stream):
        yield _ignore
        return
    from rich.progress import DownloadColumn, TransferSpeedColumn

    with _progress(stream, DownloadColumn(), TransferSpeedColumn()) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        yield advance


def _ignore(n: int) -> None:
    return None


@contextmanager
def _progress(stream: IO[str] | None, *extra: ProgressColumn) -> Iterator[Progress]:
    # rich is imported lazily: commands whose output is piped never pay for it.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(file=sys.stderr if stream is None else stream, force_terminal=True)
    columns: list[ProgressColumn | str] = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
    ]
    if extra:
        columns.extend(extra)
    else:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield progress
