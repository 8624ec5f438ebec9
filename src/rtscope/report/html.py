"""Render a :class:`~rtscope.report.model.Report` as one self-contained HTML page.

Everything is inline: the style, the script (``assets/report.js``), the SVG charts and the audio
(WAV ``data:`` URIs). A Content-Security-Policy forbids every fetch (``default-src 'none'``) and
allows only the report's own script, by hash, so nothing in a captured event can run or load
anything even if it got past escaping. All captured text goes through :func:`html.escape`.

The ``<body>`` carries counts as attributes (``data-events``, ``data-findings``, ``data-clips``)
for tests and scripts that read the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from .._version import __version__
from ..analyzers.findings import Finding
from .audio import to_wav
from .config import Change
from .model import MAX_JSON_CHARS, Clip, ConnView, EventView, Report, Span, Turn
from .summary import format_ms, trim_middle
from .timeline import is_delta

__all__ = ["render_html"]

_OUTCOMES = ("audio", "text", "function", "failed", "cancelled", "incomplete", "pending")
_OUTCOME_TEXT = {
    "audio": "audio",
    "text": "text only",
    "function": "function call",
    "failed": "failed",
    "cancelled": "cancelled",
    "incomplete": "incomplete",
    "pending": "never finished",
    "empty": "empty",
}


def e(value: Any) -> str:
    """Escape for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _asset(name: str) -> str:
    return resources.files("rtscope.report").joinpath("assets", name).read_text("utf-8")


def render_html(report: Report, title: str = "rtscope report") -> str:
    """The whole page as a string."""
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (
        f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
        "media-src data:; img-src data:; base-uri 'none'; form-action 'none'"
    )
    clips = sum(1 for c in report.conns for clip in c.clips if clip.data)
    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{e(csp)}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{e(title)}</title><style>{_asset('report.css')}</style></head>",
        f"<body data-events='{report.events_shown}' data-events-total='{report.events_total}' "
        f"data-findings='{len(report.findings)}' data-clips='{clips}' "
        f"data-conns='{len(report.conns)}'>",
        _header(report, title),
        _findings(report),
    ]
    for conn in report.conns:
        parts.extend(_conn(conn, report))
    parts.append(_footer(report))
    parts.append(f"<script>{script}</script></body></html>\n")
    return "".join(parts)


def _header(report: Report, title: str) -> str:
    sources = sorted({c.source for c in report.conns})
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<header><h1>{e(title)}</h1><div class='muted'>"
        f"{e(', '.join(sources)) or 'no input'} · {len(report.conns)} connection(s) · "
        f"{report.events_total} events · {len(report.findings)} finding(s) · "
        f"generated {e(when)} by rtscope {e(__version__)}</div></header>"
    )


def _findings(report: Report) -> str:
    out = ["<section class='findings' id='findings'><h2>Findings</h2>"]
    if not report.findings:
        out.append("<p class='muted' id='no-findings'>No findings.</p></section>")
        return "".join(out)
    out.append("<ul>")
    seqs = {ev.index: ev.seq for conn in report.conns for ev in conn.events}
    order = sorted(range(len(report.findings)), key=lambda i: -report.findings[i].severity)
    for i in order:
        f = report.findings[i]
        links = report.finding_events.get(i, [])
        where = " ".join(
            f"<a href='#ev-{idx}'>{_link_label(f, n, seqs.get(idx), idx)}</a>"
            for n, idx in enumerate(links)
        )
        out.append(
            f"<li class='finding' id='finding-{i}' data-rule='{e(f.rule)}'>"
            f"<span class='sev {e(f.severity.label)}'>{e(f.severity.label)}</span>"
            f"<b>{e(f.rule)}</b> {e(f.message)} <span class='muted'>conn {e(f.conn)}</span> "
            f"{where}"
        )
        if f.hint:
            out.append(f"<div class='fix'>Fix: {e(f.hint)}</div>")
        if f.details:
            evidence = "; ".join(
                f"{e(k)}: {e(trim_middle(str(v), 200))}" for k, v in f.details.items()
            )
            out.append(f"<div class='evidence'>Evidence: {evidence}</div>")
        out.append("</li>")
    out.append("</ul></section>")
    return "".join(out)


def _link_label(f: Finding, n: int, seq: int | None, index: int) -> str:
    if n == 0 and f.seq is None:
        return "the connection"
    where = f"seq {seq}" if seq is not None else f"event {index}"
    return f"at {where}" if n == 0 else f"related: {where}"


def _conn(conn: ConnView, report: Report) -> Iterator[str]:
    total = len(conn.events) + conn.hidden_events
    timed = any(ev.t is not None for ev in conn.events)
    duration = format_ms(conn.t_end * 1000) if timed else "no times recorded"
    yield (
        f"<section class='conn' id='conn-{e(conn.key)}' data-conn='{e(conn.conn)}' "
        f"data-events='{len(conn.events)}'>"
        f"<h2>Connection {e(conn.conn)} <span class='muted'>({e(conn.source)})</span></h2>"
        f"<div class='muted'>{e(conn.url) or 'no handshake recorded'}"
        f"{' · status ' + e(conn.status) if conn.status is not None else ''} · "
        f"{total} events · {e(duration)}"
        f"{' · close ' + e(conn.close) if conn.close else ''}</div>"
    )
    yield _config(conn)
    yield _timeline(conn, report)
    yield _latency(conn)
    yield _clips(conn)
    yield _events(conn, report)
    yield "</section>"


def _t(t: float | None) -> str:
    return "-" if t is None else f"{t:.3f}"


def _value(v: Any) -> str:
    if v.__class__.__name__ == "_Missing":
        return "(unset)"
    if isinstance(v, str):
        return repr(v)
    return trim_middle(str(v), 120)


def _change(c: Change) -> str:
    return f"<code>{e(c.path)}</code>: {e(_value(c.old))} → <b>{e(_value(c.new))}</b>"


def _config(conn: ConnView) -> str:
    if not conn.config:
        return "<h3>Session config</h3><p class='muted'>No session events.</p>"
    rows = []
    for step in conn.config:
        if step.type.endswith("session.updated") and step.changes:
            what = "<br>".join(_change(c) for c in step.changes[:40])
            if len(step.changes) > 40:
                what += f"<br>… {len(step.changes) - 40} more"
        elif step.type.endswith("session.updated"):
            what = "<span class='muted'>no change</span>"
        else:
            what = e(step.summary) or "<span class='muted'>(empty)</span>"
        rows.append(
            f"<tr><td class='num'>{_t(step.t)}</td>"
            f"<td><a href='#ev-{step.event}'>{e(step.type)}</a></td><td>{what}</td></tr>"
        )
    return (
        "<h3>Session config over time</h3><table class='config'><tr><th>t (s)</th><th>event</th>"
        "<th>what it set or changed</th></tr>" + "".join(rows) + "</table>"
    )


_W = 1000
_LEFT = 110
_LANES = [("client", 8), ("server", 34), ("responses", 60), ("user speech", 86), ("findings", 112)]


def _timeline(conn: ConnView, report: Report) -> str:
    if not conn.events:
        return ""
    timed = any(ev.t is not None for ev in conn.events)
    if timed:
        lo, hi = 0.0, max(conn.t_end, 0.001)
    else:
        lo, hi = float(conn.events[0].index), float(max(conn.events[-1].index, 1))

    def x(value: float | None) -> float:
        v = lo if value is None else value
        return _LEFT + (v - lo) / ((hi - lo) or 1.0) * (_W - _LEFT - 10)

    def pos(ev_t: float | None, index: int) -> float:
        return x(ev_t if timed else float(index))

    out = [f"<h3>Timeline</h3><svg class='timeline' viewBox='0 0 {_W} 140' role='img'>"]
    for name, y in _LANES:
        out.append(f"<text x='4' y='{y + 14}'>{e(name)}</text>")
    runs: dict[str, list[EventView]] = {}  # direction → current run of deltas

    def flush(direction: str) -> None:
        run = runs.pop(direction, [])
        if not run:
            return
        y = 8 if direction == "client" else 34
        x1, x2 = pos(run[0].t, run[0].index), pos(run[-1].t, run[-1].index)
        counts: dict[str, int] = {}
        for ev in run:
            counts[ev.type] = counts.get(ev.type, 0) + 1
        what = ", ".join(f"{t} ×{n}" if n > 1 else t for t, n in counts.items())
        out.append(
            f"<a href='#ev-{run[0].index}'><rect class='run {direction}' x='{x1 - 0.5:.1f}' "
            f"y='{y + 4}' width='{max(x2 - x1, 0) + 1:.1f}' height='12'>"
            f"<title>{e(_t(run[0].t))} {e(what)}</title></rect></a>"
        )

    for ev in conn.events:
        if ev.direction not in ("client", "server"):
            continue
        if is_delta(ev.type):
            # A run of deltas is one bar, not hundreds of ticks (long sessions stay light).
            run = runs.get(ev.direction)
            if run and ev.t is not None and run[-1].t is not None and ev.t - run[-1].t > 0.5:
                flush(ev.direction)  # a pause: a new burst
            runs.setdefault(ev.direction, []).append(ev)
            continue
        flush(ev.direction)
        y = 8 if ev.direction == "client" else 34
        cls = "tick " + ev.direction + (" error" if ev.type == "error" else "")
        xx = pos(ev.t, ev.index)
        out.append(
            f"<a href='#ev-{ev.index}'><line class='{cls}' x1='{xx:.1f}' x2='{xx:.1f}' "
            f"y1='{y}' y2='{y + 20}'><title>{e(_t(ev.t))} {e(ev.type)}</title></line></a>"
        )
    for direction in list(runs):
        flush(direction)
    for span in conn.spans:
        out.append(_span(span, x, hi, timed))
    for ev in conn.events:
        for fi in ev.findings:
            f = report.findings[fi]
            xx = pos(ev.t, ev.index)
            out.append(
                f"<a href='#ev-{ev.index}'><polygon class='mark {e(f.severity.label)}' "
                f"points='{xx - 5:.1f},132 {xx + 5:.1f},132 {xx:.1f},114'>"
                f"<title>{e(f.rule)}: {e(trim_middle(f.message, 120))}</title></polygon></a>"
            )
    scale = f"0 s … {hi:.2f} s" if timed else "no times in this capture: by event order"
    out.append(f"<text x='{_LEFT}' y='138'>{e(scale)}</text></svg>")
    legend = "".join(f"<span><i class='{o}'></i>{e(_OUTCOME_TEXT[o])}</span>" for o in _OUTCOMES)
    out.append(f"<div class='legend'>{legend}<span><i class='speech'></i>user speech</span></div>")
    return "".join(out)


def _span(span: Span, x: Any, hi: float, timed: bool) -> str:
    y = 60 if span.kind == "response" else 86
    end = span.end if span.end is not None else hi
    x1, x2 = x(span.start), x(end)
    width = max(x2 - x1, 3.0)
    outcome = span.outcome if span.kind == "response" else "speech"
    label = span.label if span.kind == "speech" else f"{span.label}: {_OUTCOME_TEXT.get(outcome)}"
    return (
        f"<a href='#ev-{span.event}'><rect class='span {e(outcome)}' data-outcome='{e(outcome)}' "
        f"x='{x1:.1f}' y='{y}' width='{width:.1f}' height='20' rx='2'>"
        f"<title>{e(label)}</title></rect></a>"
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _latency(conn: ConnView) -> str:
    turns = conn.turns
    if not turns:
        return ""
    rows = []
    for n, turn in enumerate(turns, 1):
        rows.append(
            f"<tr><td class='num'>{n}</td><td><a href='#ev-{turn.event}'>{e(turn.response_id)}</a>"
            f"</td><td>{e(turn.trigger or '-')}</td><td class='num'>{_ms(turn.to_created_ms)}</td>"
            f"<td class='num'>{_ms(turn.to_first_ms)}</td><td>{e(turn.first_output or '-')}</td>"
            f"<td class='num'>{_ms(turn.to_done_ms)}</td>"
            f"<td class='outcome {e(turn.outcome)}'>"
            f"{e(_OUTCOME_TEXT.get(turn.outcome, turn.outcome))}</td></tr>"
        )
    return (
        "<h3>Turn latency</h3>"
        + _latency_chart(turns)
        + "<table class='latency'><tr><th>#</th><th>response</th><th>trigger</th>"
        "<th>→ created (ms)</th><th>→ first output (ms)</th><th>output</th>"
        "<th>→ done (ms)</th><th>outcome</th></tr>" + "".join(rows) + "</table>"
    )


def _latency_chart(turns: list[Turn]) -> str:
    totals = [(t.to_created_ms or 0) + (t.to_first_ms or 0) + (t.to_done_ms or 0) for t in turns]
    top = max(totals + [1.0])
    width, left, row = 640, 40, 18
    height = row * len(turns) + 24
    out = [f"<svg class='lat' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>"]
    scale = (width - left - 70) / top
    for n, turn in enumerate(turns):
        y = 4 + n * row
        xx = float(left)
        out.append(f"<text x='0' y='{y + 12}'>#{n + 1}</text>")
        for cls, value, name in (
            ("a", turn.to_created_ms, "trigger → response.created"),
            ("b", turn.to_first_ms, "response.created → first output"),
            ("c", turn.to_done_ms, "first output → response.done"),
        ):
            if value is None or value <= 0:
                continue
            w = value * scale
            out.append(
                f"<rect class='{cls}' x='{xx:.1f}' y='{y}' width='{max(w, 1):.1f}' "
                f"height='{row - 4}'><title>{e(name)}: {value:.0f} ms</title></rect>"
            )
            xx += w
        out.append(f"<text x='{xx + 4:.1f}' y='{y + 12}'>{totals[n]:.0f} ms</text>")
    out.append(
        f"<text x='{left}' y='{height - 4}'>grey: to response.created · blue: to first output"
        " · green: to response.done</text></svg>"
    )
    return "".join(out)


def _clips(conn: ConnView) -> str:
    if not conn.clips:
        return ""
    out = ["<h3>Audio</h3><ul class='clips'>"]
    for clip in conn.clips:
        out.append(f"<li>{_player(clip)}<b>{e(clip.label)}</b> <span class='muted'>")
        out.append(f"{e(clip.fmt)}, {e(format_ms(clip.ms))}")
        if clip.truncated:
            out.append(f", first {e(format_ms(clip.kept_ms))} kept in this page")
        out.append(f"</span> <a href='#ev-{clip.event}'>first event</a>")
        if clip.transcript:
            out.append(f"<div class='muted'>“{e(trim_middle(clip.transcript, 300))}”</div>")
        out.append("</li>")
    out.append("</ul>")
    return "".join(out)


def _player(clip: Clip) -> str:
    if clip.dropped:
        return "<span class='muted'>(audio not recorded: captured with --audio drop) </span>"
    if not clip.data:
        return (
            "<span class='muted'>(not embedded: the page's audio budget was used by earlier "
            "audio; see --max-audio-seconds) </span>"
        )
    data = base64.b64encode(to_wav(bytes(clip.data), clip.fmt)).decode("ascii")
    return f"<audio controls preload='metadata' src='data:audio/wav;base64,{data}'></audio>"


def _events(conn: ConnView, report: Report) -> str:
    out = [
        "<h3>Events</h3><div class='toolbar'><input type='search' placeholder='filter by type'"
        " aria-label='filter events by type'><button type='button' data-open='1'>expand all"
        "</button><button type='button' data-open='0'>collapse all</button></div>"
        "<div class='events'>"
    ]
    for ev in conn.events:
        classes = [ev.direction or "meta"]
        if ev.type == "error":
            classes.append("is-error")
        arrow = {"client": "→", "server": "←"}.get(ev.direction or "", "•")
        flag = ""
        if ev.findings:
            rules = ", ".join(sorted({report.findings[i].rule for i in ev.findings}))
            flag = f"<span class='fl'>⚑ {e(rules)}</span>"
        seq = f" data-seq='{ev.seq}'" if ev.seq is not None else ""
        out.append(
            f"<details id='ev-{ev.index}' class='{' '.join(classes)}' data-type='{e(ev.type)}'"
            f"{seq}><summary><span class='t'>{_t(ev.t)}</span><span class='dir'>{arrow}</span>"
            f"<span class='ty'>{e(ev.type)}</span>{flag}<span class='sm'>{e(ev.summary)}</span>"
            f"</summary><pre>{e(ev.body)}</pre></details>"
        )
    out.append("</div>")
    if conn.hidden_events:
        out.append(
            f"<p class='note'>{conn.hidden_events} more events are not listed (the page lists "
            "at most the first events of the report; see --max-events).</p>"
        )
    return "".join(out)


def _footer(report: Report) -> str:
    notes = [
        f"Event JSON is cut to {MAX_JSON_CHARS} characters and base64 audio inside it is shown as "
        "its size; audio players decode the captured audio (pcm16 24 kHz, G.711 8 kHz), "
        "at most the report's audio budget in event order.",
    ]
    if report.trimmed_json:
        notes.append(f"{report.trimmed_json} event(s) had their JSON cut.")
    if report.events_shown < report.events_total:
        notes.append(f"{report.events_total - report.events_shown} event(s) are not listed.")
    notes.extend(report.problems)
    return "<footer>" + "<br>".join(e(n) for n in notes) + "</footer>"
