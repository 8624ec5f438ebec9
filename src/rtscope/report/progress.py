"""Progress bars for long commands: shown on a terminal's stderr only, silent otherwise.

Commands that may run longer than a second (analyzing a directory or a big file, ``replay
--repeat``, exports, imports, reports of big captures) wrap their loop in :func:`track`, or count
the bytes they read with :func:`byte_progress` and :func:`counted_input`. When stderr is not a
terminal (a pipe, a file, CI, a test) nothing is drawn and the overhead is one ``isatty`` call,
so callers never need to check themselves.

    from rtscope.report.progress import track, byte_progress, counted_input, total_size

    for path in track(paths, description="analyzing"):
        ...

    with byte_progress(total_size(paths), description="importing") as bar:
        for path in paths:
            bar.describe(path)
            with counted_input(path, bar) as source:  # the path itself when no bar is drawn
                for record in open_source(source, path):
                    ...

Hot loops stay hot: :func:`track` advances the bar every ``every`` items, and a counted input
reports once per buffer it reads (64 KiB), never per record. The bar is transient (erased when
done) so the command's own output stays clean. Set ``RTSCOPE_PROGRESS=1`` to draw it even when
stderr is not a terminal (demos, screenshots, tests), ``RTSCOPE_PROGRESS=0`` to never draw it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID

__all__ = [
    "Bar",
    "byte_progress",
    "counted_input",
    "progress_enabled",
    "steps",
    "total_size",
    "track",
]

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


class Bar:
    """What :func:`byte_progress` and :func:`steps` yield: ``bar(n)`` advances by ``n``.

    Without a drawn bar every method is a no-op, cheap enough to call per chunk.
    """

    active = False

    def __call__(self, n: int = 1) -> None:
        return None

    def describe(self, description: str) -> None:
        """Change the text in front of the bar (e.g. the file being read)."""
        return None


class _LiveBar(Bar):
    active = True

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def __call__(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def describe(self, description: str) -> None:
        self._progress.update(self._task, description=_short(description))


def track(
    iterable: Iterable[T],
    total: float | None = None,
    description: str = "working",
    *,
    every: int = 1,
    stream: IO[str] | None = None,
) -> Iterator[T]:
    """Iterate over ``iterable``, drawing a bar on a terminal's stderr.

    ``total`` defaults to ``len(iterable)`` when it has one; without a total the bar shows a count.
    The bar moves every ``every`` items (use a few hundred when iterating records).
    """
    if not progress_enabled(stream):
        yield from iterable
        return
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    every = max(1, every)
    with _progress(stream) as progress:
        task = progress.add_task(_short(description), total=total)
        pending = 0
        for item in iterable:
            yield item
            pending += 1
            if pending >= every:
                progress.advance(task, pending)
                pending = 0
        if pending:
            progress.advance(task, pending)


@contextmanager
def steps(
    total: int | None, description: str = "working", *, stream: IO[str] | None = None
) -> Iterator[Bar]:
    """A context manager giving a :class:`Bar` that counts steps (runs, files) up to ``total``."""
    if not progress_enabled(stream):
        yield Bar()
        return
    with _progress(stream) as progress:
        yield _LiveBar(progress, progress.add_task(_short(description), total=total))


@contextmanager
def byte_progress(
    total: int | None,
    description: str = "reading",
    *,
    stream: IO[str] | None = None,
) -> Iterator[Bar]:
    """A context manager giving a :class:`Bar`; ``bar(n_bytes)`` draws a byte-based bar.

    Off a terminal the bar is a no-op, cheap to call per line or chunk.
    """
    if not progress_enabled(stream):
        yield Bar()
        return
    from rich.progress import DownloadColumn

    with _progress(stream, DownloadColumn()) as progress:
        yield _LiveBar(progress, progress.add_task(_short(description), total=total))


def total_size(paths: Sequence[str | os.PathLike[str]]) -> int | None:
    """Bytes in the files at ``paths`` (for a byte bar), or None when one is not a plain file."""
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except (OSError, ValueError):
            return None
    return total


@contextmanager
def counted_input(
    path: str | os.PathLike[str], bar: Bar
) -> Iterator[str | os.PathLike[str] | IO[bytes]]:
    """What to hand to ``open_source`` for ``path`` so that the bytes it reads move ``bar``.

    Without a drawn bar (or when ``path`` cannot be opened, so that ``open_source`` reports the
    problem in its own words) this is ``path`` itself: behaviour and speed are unchanged.
    Otherwise it is a binary stream over the file that reports each buffer read; the stream is
    closed when the block ends.
    """
    if not bar.active:
        yield path
        return
    try:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError:
        yield path
        return
    with _Counting(raw, bar) as counting:
        yield cast(IO[bytes], counting)


class _Counting(io.RawIOBase):
    """A raw binary stream that reports how many bytes each read returned."""

    def __init__(self, raw: IO[bytes], bar: Bar) -> None:
        self._raw = raw
        self._bar = bar
        self.name = getattr(raw, "name", "<stream>")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self._bar(n)
        return int(n or 0)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _short(description: str, width: int = 28) -> str:
    """A description that leaves room for the bar: long ones lose their middle, so that both
    the verb in front ("analyzing") and the end of a path stay readable."""
    if len(description) <= width:
        return description
    head = description.split(" ", 1)[0][:12] + " …" if " " in description else "…"
    return head + description[-(width - len(head)) :]


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
    from rich.table import Column

    target = sys.stderr if stream is None else stream
    console = Console(file=target, force_terminal=True)
    # Fixed widths that fit 80 columns: description 28, bar 20, count 15, time 7.
    columns: list[ProgressColumn | str] = [
        TextColumn(
            "[progress.description]{task.description}",
            table_column=Column(width=28, no_wrap=True, overflow="ellipsis"),
        ),
        BarColumn(bar_width=20),
    ]
    if extra:
        columns.extend(extra)
    else:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    # Lines the command prints on stdout while the bar is drawn go above the bar when stdout is
    # the same terminal; when stdout is redirected they must stay on stdout, untouched.
    with Progress(
        *columns,
        console=console,
        transient=True,
        redirect_stdout=_isatty(sys.stdout),
        redirect_stderr=stream is None,
    ) as progress:
        yield progress


def _isatty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
