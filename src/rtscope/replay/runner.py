"""``rtscope replay`` end to end: N runs per timing, then findings compared across runs.

Each run is one :func:`~.client.replay_once` (its own capture). Afterwards the analyzers (if this
build has them: ``rtscope.analyzers.analyze``) run over the original connection and every run,
and :func:`findings_table` counts, per rule, in how many runs it came back:
``text-only-response   original 1/1   replay/original 5/5   replay/ack 0/5``. Each run's server
side is also compared with the recording (:mod:`.diff`) and its first divergence noted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..capture.sources import open_source
from .client import RunResult, replay_once
from .diff import diff_records
from .plan import Timing
from .recording import Recording

__all__ = ["Analyzer", "ReplayReport", "findings_table", "format_report", "load_analyzer", "run"]

Analyzer = Callable[[Iterable[dict[str, Any]]], list[Any]]


def load_analyzer() -> Analyzer | None:
    """``rtscope.analyzers.analyze`` when this build has it, else ``None``."""
    try:
        from ..analyzers import analyze  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    return analyze  # type: ignore[no-any-return,unused-ignore]


@dataclass
class RunReport:
    result: RunResult
    findings: list[dict[str, Any]] = field(default_factory=list)
    divergence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "findings": self.findings, "divergence": self.divergence}


@dataclass
class ReplayReport:
    source: str
    original_findings: list[dict[str, Any]] | None
    runs: list[RunReport]
    timings: list[Timing]
    repeat: int
    analyzed: bool

    def table(self) -> dict[str, dict[str, dict[str, int]]]:
        return findings_table(self.original_findings or [], self.runs, self.timings, self.repeat)

    def to_dict(self) -> dict[str, Any]:
        return {
            "capture": self.source,
            "original": {"findings": self.original_findings},
            "runs": [run.to_dict() for run in self.runs],
            "table": self.table() if self.analyzed else None,
        }


def _rules(findings: list[dict[str, Any]]) -> set[str]:
    return {str(f.get("rule")) for f in findings}


def findings_table(
    original: list[dict[str, Any]], runs: list[RunReport], timings: list[Timing], repeat: int
) -> dict[str, dict[str, dict[str, int]]]:
    """``{rule: {"original": {"hits": h, "runs": 1}, "replay/<timing>": {…}}}``, where ``hits``
    counts the runs in which the rule reported at least one finding."""
    rules = sorted(_rules(original).union(*(_rules(r.findings) for r in runs)))
    table: dict[str, dict[str, dict[str, int]]] = {}
    for rule in rules:
        row = {"original": {"hits": int(rule in _rules(original)), "runs": 1}}
        for timing in timings:
            mine = [r for r in runs if r.result.timing == timing]
            hits = sum(rule in _rules(r.findings) for r in mine)
            row[f"replay/{timing}"] = {"hits": hits, "runs": len(mine) or repeat}
        table[rule] = row
    return table


def _finding_dicts(analyzer: Analyzer, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for finding in analyzer(records):
        as_dict = finding.to_dict() if hasattr(finding, "to_dict") else dict(finding)
        out.append(as_dict)
    return out


def _run_records(path: Path) -> list[dict[str, Any]]:
    return list(open_source(path))


async def run(
    recording: Recording,
    target: str,
    out_dir: Path,
    *,
    timings: list[Timing],
    repeat: int = 1,
    speed: float = 1.0,
    headers: list[tuple[str, str]] | None = None,
    analyzer: Analyzer | None = None,
    progress: Callable[[str], None] | None = None,
) -> ReplayReport:
    """All runs, one after the other (runs never overlap: timing is what is under test)."""
    stamp = datetime.fromtimestamp(time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")
    stem = Path(recording.source).name.split(".")[0] or "capture"
    directory = out_dir / f"{stem}-{stamp}"
    original_records = [r for r in (recording.open, *recording.messages, recording.close) if r]
    original = _finding_dicts(analyzer, original_records) if analyzer else None
    reports: list[RunReport] = []
    for timing in timings:
        for index in range(1, repeat + 1):
            path = directory / f"{timing}-{index}.jsonl"
            result = await replay_once(recording, target, path, timing=timing, index=index,
                                       speed=speed, headers=headers)  # fmt: skip
            records = _run_records(path)
            report = RunReport(result)
            if analyzer is not None:
                report.findings = _finding_dicts(analyzer, records)
            diff = diff_records(recording.messages, [r for r in records if r.get("kind") == "msg"],
                                sides=("server",))  # fmt: skip
            if diff.divergences:
                report.divergence = diff.divergences[0].summary()
            reports.append(report)
            if progress is not None:
                progress(format_run(report))
    return ReplayReport(recording.source, original, reports, timings, repeat, analyzer is not None)


def format_run(report: RunReport) -> str:
    r = report.result
    late = r.lateness
    line = (
        f"run {r.timing} #{r.index}: sent {r.sent}, received {r.received}; lateness p50 "
        f"{late['p50_ms']:.1f} ms, p99 {late['p99_ms']:.1f} ms, max {late['max_ms']:.1f} ms; "
        f"{r.capture}"
    )
    extra = []
    if report.divergence:
        extra.append(f"  diverges from the recording: {report.divergence}")
    extra += [f"  unmapped id reference: {u}" for u in r.unmapped]
    extra += [f"  missing ack: {m}" for m in r.missing_acks]
    extra += [f"  {n}" for n in r.notes]
    return "\n".join([line, *extra])


def format_report(report: ReplayReport) -> str:
    """The findings table (text)."""
    if not report.analyzed:
        return "(the analyzers are not available in this build: no findings table)"
    table = report.table()
    if not table:
        return "no findings in the original nor in any run"
    columns = ["original"] + [f"replay/{t}" for t in report.timings]
    if len(report.timings) == 1:
        labels = {"original": "original", f"replay/{report.timings[0]}": "replay"}
    else:
        labels = {c: c for c in columns}
    width = max(len(rule) for rule in table) + 3
    lines = []
    for rule, row in table.items():
        cells = [f"{labels[c]} {row[c]['hits']}/{row[c]['runs']}" for c in columns]
        lines.append(f"{rule:<{width}}" + "   ".join(cells))
    return "\n".join(lines)
