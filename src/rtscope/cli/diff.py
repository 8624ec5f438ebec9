"""``rtscope diff A B``: where and how two captures' event sequences diverge (exit 0 / 1 / 2)."""

from __future__ import annotations

import sys

import click
import orjson

__all__ = ["command"]


@click.command("diff")
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@click.option("--conn-a", default=None, help="Connection of A (default: the first).")
@click.option("--conn-b", default=None, help="Connection of B (default: the first).")
@click.option("--side", type=click.Choice(["both", "client", "server"]), default="both",
              show_default=True, help="Which messages to compare.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")  # fmt: skip
@click.option("--limit", type=int, default=20, show_default=True, help="Differences shown.")
def command(
    a: str, b: str, conn_a: str | None, conn_b: str | None, side: str, fmt: str, limit: int
) -> None:
    """Compare the event sequences of captures A and B.

    Delta runs are collapsed and ids normalized, then each side is aligned and every difference
    of event types, modalities, content types, statuses and findings is listed, the first one
    first. Exit code 0: equivalent; 1: they diverge; 2: bad input.

    \b
    Examples:
      rtscope diff cap.jsonl replays/cap-20261121T101500Z/original-1.jsonl
      rtscope diff a.jsonl b.jsonl --side server --limit 5
      rtscope diff a.jsonl b.jsonl --conn-a 1 --conn-b 2 --format json
    """
    from ..replay.diff import diff_records, format_diff
    from ..replay.recording import load_recording
    from ..replay.runner import load_analyzer

    rec_a = load_recording(a, conn_a)
    rec_b = load_recording(b, conn_b)
    sides = ("client", "server") if side == "both" else (side,)
    analyzer = load_analyzer()
    findings = None
    if analyzer is not None:

        def rules(rec: object) -> list[str]:
            records = [r for r in (rec.open, *rec.messages, rec.close) if r]  # type: ignore[attr-defined]
            return sorted({str(getattr(f, "rule", "")) for f in analyzer(records)})

        findings = (rules(rec_a), rules(rec_b))
    result = diff_records(rec_a.messages, rec_b.messages, sides, findings)
    if fmt == "json":
        out = {
            "a": a,
            "b": b,
            "equivalent": result.equivalent,
            "divergences": [
                {
                    "side": d.side,
                    "kind": d.kind,
                    "index_a": d.index_a,
                    "index_b": d.index_b,
                    "a": [s.describe() for s in d.a],
                    "b": [s.describe() for s in d.b],
                    "summary": d.summary(),
                }  # fmt: skip
                for d in result.divergences
            ],
            "findings_only_a": result.findings_only_a,
            "findings_only_b": result.findings_only_b,
            "timing": result.timing,
        }
        click.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(format_diff(result, a, b, limit))
    sys.exit(0 if result.equivalent else 1)
