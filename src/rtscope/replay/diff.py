"""Where and how two sessions differ (``rtscope diff``), over :mod:`.normalize` steps.

Each side (client, server) is aligned on its own (``difflib.SequenceMatcher`` over step keys):
the interleaving of client and server messages depends on timing and is not a divergence.
A changed step says which attributes differ (modalities, content types, statuses…); missing and
extra steps are listed; timing differences of aligned steps are reported but never make two
sessions diverge. Findings, when the analyzers are available, are compared by rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .normalize import Step, steps

__all__ = ["Divergence", "DiffResult", "diff_records", "format_diff"]


@dataclass(frozen=True)
class Divergence:
    side: str
    kind: str  # "changed" | "missing" | "extra"
    index_a: int
    index_b: int
    a: tuple[Step, ...]
    b: tuple[Step, ...]

    def summary(self) -> str:
        """One line: where, and what (the first steps involved)."""
        first = self.describe().splitlines()
        if len(first) == 1:
            return first[0]
        steps_text = [s.describe() for s in (*self.a[:1], *self.b[:1])]
        more = len(self.a) + len(self.b) - len(steps_text)
        tail = f" (+{more} more)" if more > 0 else ""
        side_a = f"A has {steps_text[0]}" if self.a else "A has nothing"
        side_b = f"B has {self.b[0].describe()}" if self.b else "B has nothing"
        return f"{first[0]}: {side_a}; {side_b}{tail}"

    def describe(self) -> str:
        where = f"{self.side} step {self.index_a + 1} (A) / {self.index_b + 1} (B)"
        if self.kind == "changed" and len(self.a) == len(self.b) == 1:
            sa, sb = self.a[0], self.b[0]
            if sa.type == sb.type:
                da, db = dict(sa.attrs), dict(sb.attrs)
                diffs = [
                    f"{k}: {_fmt(da.get(k))} → {_fmt(db.get(k))}"
                    for k in sorted(set(da) | set(db))
                    if da.get(k) != db.get(k)
                ]
                return f"{where}: {sa.type} differs: " + "; ".join(diffs)
        lines = [f"{where}: {self.kind}"]
        lines += [f"    A: {s.describe()}" for s in self.a[:8]]
        if len(self.a) > 8:
            lines.append(f"    A: … {len(self.a) - 8} more")
        lines += [f"    B: {s.describe()}" for s in self.b[:8]]
        if len(self.b) > 8:
            lines.append(f"    B: … {len(self.b) - 8} more")
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return "—" if value is None else str(value)


@dataclass
class DiffResult:
    divergences: list[Divergence] = field(default_factory=list)
    steps_a: dict[str, int] = field(default_factory=dict)
    steps_b: dict[str, int] = field(default_factory=dict)
    timing: list[str] = field(default_factory=list)
    findings_only_a: list[str] = field(default_factory=list)
    findings_only_b: list[str] = field(default_factory=list)

    @property
    def equivalent(self) -> bool:
        return not (self.divergences or self.findings_only_a or self.findings_only_b)


def _timing(side: str, a: Sequence[Step], b: Sequence[Step], pairs: list[tuple[int, int]]) -> str:
    times: list[tuple[float, float]] = []
    for i, j in pairs:
        ta, tb = a[i].t, b[j].t
        if ta is not None and tb is not None:
            times.append((ta, tb))
    if len(times) < 2:
        return ""
    a0, b0 = times[0]
    worst = max(times, key=lambda p: abs((p[0] - a0) - (p[1] - b0)))
    shift = ((worst[1] - b0) - (worst[0] - a0)) * 1000
    dur_a, dur_b = (times[-1][0] - a0) * 1000, (times[-1][1] - b0) * 1000
    return (
        f"{side}: aligned span {dur_a:.0f} ms (A) vs {dur_b:.0f} ms (B); "
        f"largest shift {shift:+.0f} ms"
    )


def diff_records(
    a: Sequence[dict[str, Any]],
    b: Sequence[dict[str, Any]],
    sides: Sequence[str] = ("client", "server"),
    findings: tuple[Sequence[str], Sequence[str]] | None = None,
) -> DiffResult:
    """Compare the message records of two connections, side by side."""
    result = DiffResult()
    for side in sides:
        sa, sb = steps(a, side), steps(b, side)
        result.steps_a[side], result.steps_b[side] = len(sa), len(sb)
        matcher = difflib.SequenceMatcher(None, [s.key for s in sa], [s.key for s in sb],
                                          autojunk=False)  # fmt: skip
        pairs: list[tuple[int, int]] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                pairs += [(i1 + k, j1 + k) for k in range(i2 - i1)]
                continue
            kind = {"replace": "changed", "delete": "missing", "insert": "extra"}[tag]
            result.divergences.append(
                Divergence(side, kind, i1, j1, tuple(sa[i1:i2]), tuple(sb[j1:j2]))
            )
        line = _timing(side, sa, sb, pairs)
        if line:
            result.timing.append(line)
    if findings is not None:
        fa, fb = set(findings[0]), set(findings[1])
        result.findings_only_a = sorted(fa - fb)
        result.findings_only_b = sorted(fb - fa)
    return result


def format_diff(result: DiffResult, name_a: str, name_b: str, limit: int = 20) -> str:
    """Human-readable report; the first divergence first."""
    lines = [f"A: {name_a}", f"B: {name_b}"]
    for side in result.steps_a:
        lines.append(f"{side}: {result.steps_a[side]} steps (A), {result.steps_b[side]} (B)")
    if result.equivalent:
        lines.append("equivalent (after collapsing delta runs and normalizing ids)")
    else:
        count = len(result.divergences)
        if count:
            first = result.divergences[0]
            lines.append(f"diverge: {count} difference(s); first at {first.side} step "
                         f"{first.index_a + 1}")  # fmt: skip
        for divergence in result.divergences[:limit]:
            lines.append(divergence.describe())
        if count > limit:
            lines.append(f"… {count - limit} more")
        if result.findings_only_a:
            lines.append("findings only in A: " + ", ".join(result.findings_only_a))
        if result.findings_only_b:
            lines.append("findings only in B: " + ", ".join(result.findings_only_b))
    lines += result.timing
    return "\n".join(lines)
