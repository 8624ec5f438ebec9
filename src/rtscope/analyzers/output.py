"""Findings as text (80 columns, per connection, most severe first) or as the JSON document.

Pure functions over :class:`InputResult` values; the CLI only prints what they return. Text
output carries rich markup (colors), which the CLI renders only on a terminal.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, Severity

__all__ = ["InputResult", "json_document", "summary", "text_report"]

WIDTH = 80
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass
class InputResult:
    """What analyzing one input gave."""

    name: str
    findings: list[Finding] = field(default_factory=list)
    connections: int = 0
    messages: int = 0
    problems: list[str] = field(default_factory=list)
    first_t: dict[str, float] = field(default_factory=dict)
    #: why the input could not be read (one line), if it could not
    error: str | None = None


def _counts(results: list[InputResult]) -> dict[str, int]:
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for r in results:
        for f in r.findings:
            counts[f.severity.label] += 1
    return counts


def summary(results: list[InputResult]) -> dict[str, Any]:
    return {
        "files": len(results),
        "connections": sum(r.connections for r in results),
        "messages": sum(r.messages for r in results),
        "findings": _counts(results),
        "problems": sum(len(r.problems) for r in results),
        "unreadable": sum(1 for r in results if r.error),
    }


def json_document(results: list[InputResult]) -> dict[str, Any]:
    """The ``--format json`` document (version 1)."""
    findings = []
    for r in results:
        for f in r.findings:
            findings.append({**f.to_dict(), "input": r.name})
    return {
        "version": 1,
        "inputs": [
            {
                "name": r.name,
                "connections": r.connections,
                "messages": r.messages,
                "problems": r.problems,
                **({"error": r.error} if r.error else {}),
            }
            for r in results
        ],
        "findings": findings,
        "summary": summary(results),
    }


def _evidence(details: dict[str, Any]) -> str:
    parts = []
    for key, value in details.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = [v.get("path", "…") for v in value]
        if isinstance(value, list) and len(value) > 6:
            value = [*value[:6], "…"]
        text = str(value)
        if len(text) > 120:
            text = text[:117] + "…"
        parts.append(f"{key}={text}")
    return ", ".join(parts)


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
    ) or [indent]


def text_report(results: list[InputResult]) -> str:
    """Findings per input and connection, most severe first, each with evidence and fix."""
    from rich.markup import escape  # only here: JSON output does not load rich

    lines: list[str] = []
    for r in results:
        conns: dict[str, list[Finding]] = {}
        for f in r.findings:
            conns.setdefault(f.conn, []).append(f)
        for conn, found in conns.items():
            found = sorted(found, key=lambda f: (-f.severity, -1 if f.seq is None else f.seq))
            name = r.name if len(r.name) <= WIDTH else "…" + r.name[-(WIDTH - 1) :]
            lines.append(f"[bold]{escape(name)}[/]")
            lines.append(escape(f"connection {conn}: {len(found)} finding(s)"))
            start = r.first_t.get(conn)
            for f in found:
                where = "" if f.seq is None else f" seq {f.seq}"
                if f.t is not None and start is not None:
                    where += f" +{f.t - start:.3f}s"
                style = _STYLE[f.severity]
                head = f"  {f.severity.label.upper():<7} {f.rule}{where}"
                lines.append(f"[{style}]{escape(head)}[/]")
                lines += [escape(x) for x in _wrap(f.message, "    ")]
                if f.details:
                    lines += [escape(x) for x in _wrap("evidence: " + _evidence(f.details), "    ")]
                if f.hint:
                    lines += [f"[green]{escape(x)}[/]" for x in _wrap("fix: " + f.hint, "    ")]
            lines.append("")
    s = summary(results)
    counts = s["findings"]
    lines.append(
        f"{s['files']} file(s), {s['connections']} connection(s), {s['messages']} message(s): "
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info"
    )
    return "\n".join(lines)
