"""Print timeline rows: colors on a terminal (rich), plain text when piped.

The layout of a line is ``<seconds since open>  <arrow> <type>[ ×N]  <summary>``; client events
point right (``→``, client to server), server events left (``←``). A finding follows the line of
the message that shows it, indented, with its severity, rule, message and fix. Whenever the output
starts (or switches back to) a connection, a ``── conn <id>`` line says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console
from rich.text import Text

from ..analyzers.findings import Finding, Severity
from .summary import trim_middle
from .timeline import Row

__all__ = ["TimelinePrinter", "safe"]

_ARROWS = {"client": "→", "server": "←"}
_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
_TIME_WIDTH = 9
_PLAIN_LIMIT = 200  # characters of summary when piped (a terminal uses its width)


#: Control characters (C0, DEL, C1) shown as ``\xNN``: captured text is untrusted and must not
#: move the cursor, retitle the window or hide lines on the user's terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}


def safe(text: str) -> str:
    """``text`` with every control character made visible (``\x1b``), one line."""
    return text.translate(_CONTROLS)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """``rtscope show cap.jsonl | head``: the reader left; stop quietly with success.

        (rich's default exits with code 1, which rtscope uses for "findings".)
        """
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.file.fileno())
        raise SystemExit(0)


def _type_style(row: Row) -> str:
    if row.type == "error" or "failed" in row.summary.split(" ", 1)[0]:
        return "bold red"
    if row.direction == "client":
        return "cyan"
    if row.kind in ("open", "close"):
        return "bold"
    return "green"


@dataclass
class TimelinePrinter:
    """Writes rows to ``file``; counts what it printed for the closing summary line."""

    file: IO[str]
    color: bool | None = None  # None: decide from the stream (rich's terminal detection)
    events: int = 0
    lines: int = 0
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.console = _Console(
            file=self.file,
            force_terminal=self.color,
            no_color=self.color is False,
            highlight=False,
            soft_wrap=True,
            emoji=False,
            markup=False,
        )
        self._conn: str | None = None

    @property
    def on_terminal(self) -> bool:
        return self.console.is_terminal

    def print_rows(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.print_row(row)

    def print_row(self, row: Row) -> None:
        if row.conn != self._conn:
            self.console.print(Text(f"── conn {safe(row.conn)}", style="bold magenta"))
            self._conn = row.conn
        if row.kind == "finding":
            for f in row.findings:
                self._finding(f, standalone=True, t=row.t)
            return
        if row.kind == "note":
            self.console.print(Text(" " * (_TIME_WIDTH + 2) + safe(row.summary), style="dim"))
            return
        line = Text()
        line.append(_time(row.t).rjust(_TIME_WIDTH), style="dim")
        line.append("  ")
        arrow = _ARROWS.get(row.direction or "", "•")
        line.append(arrow + " ", style=_type_style(row))
        line.append(safe(row.type), style=_type_style(row))
        if row.count > 1:
            line.append(f" ×{row.count}", style="bold")
        if row.summary:
            line.append("  ")
            room = _PLAIN_LIMIT
            if self.on_terminal:
                room = max(20, self.console.width - len(line.plain) - 1)
            line.append(trim_middle(safe(row.summary), room))
        self.console.print(line)
        self.lines += 1
        if row.kind == "msg":
            self.events += row.count
        for f in row.findings:
            self._finding(f)

    def _finding(self, f: Finding, standalone: bool = False, t: float | None = None) -> None:
        self.findings.append(f)
        style = _SEVERITY_STYLE.get(f.severity, "yellow")
        text = Text()
        if standalone:
            text.append(_time(t).rjust(_TIME_WIDTH), style="dim")
            where = f" (seq {f.seq})" if f.seq is not None else ""
            text.append(f"  ! {f.severity.label} {safe(f.rule)}{where}: ", style=style)
        else:
            text.append(" " * (_TIME_WIDTH + 2))
            text.append(f"! {f.severity.label} {safe(f.rule)}: ", style=style)
        text.append(safe(f.message))
        if f.hint:
            text.append(f" (fix: {safe(f.hint)})", style="dim")
        self.console.print(text)

    def print_footer(self, name: str, problems: Iterable[str] = ()) -> None:
        for problem in problems:
            self.console.print(Text(f"note: {safe(problem)}", style="yellow"))
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.severity.label] = counts.get(f.severity.label, 0) + 1
        found = ", ".join(
            f"{counts[s.label]} {s.label}{'s' if counts[s.label] > 1 else ''}"
            for s in sorted(Severity, reverse=True)
            if s.label in counts
        )
        summary = f"{safe(name)}: {self.events} events in {self.lines} lines"
        summary += f", findings: {found}" if found else ", no findings"
        self.console.print(Text(summary, style="dim"))


def _time(t: float | None) -> str:
    return "-" if t is None else f"{t:.3f}"
