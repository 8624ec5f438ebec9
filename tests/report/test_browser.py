"""The HTML report in a real headless Chromium: loads cleanly, shows what it says it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.analyzers.findings import Finding, Severity
from rtscope.capture.sources import open_source
from rtscope.report.html import render_html
from rtscope.report.model import build_report
from tests.report.cdp_browser import find_chromium, open_page, screenshot
from tests.report.xss_capture import write_xss_capture

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = find_chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (run scripts/ensure_chromium.sh, or set RTSCOPE_CHROMIUM)",
)


def write_report(tmp_path: Path, names: list[str], findings: list[Finding]) -> Path:
    readers = [open_source(FIXTURES / n) for n in names]
    report = build_report([(r.name, iter(r)) for r in readers], findings)
    out = tmp_path / "report.html"
    out.write_text(render_html(report), encoding="utf-8")
    return out


async def test_report_loads_without_errors_and_shows_findings_events_and_audio(
    tmp_path: Path,
) -> None:
    assert CHROMIUM is not None
    findings = [
        Finding("F-25", Severity.ERROR, "1", 140, None, "Response failed (server_error)", "Retry"),
        Finding("F-06", Severity.WARNING, "1", 60, None, "Text-only answer", "Check history"),
    ]
    html = write_report(tmp_path, ["ga_voice.jsonl", "beta_g711.jsonl"], findings)
    messages = sum(
        (FIXTURES / n).read_bytes().count(b'"kind":"msg"') + 2
        for n in ("ga_voice.jsonl", "beta_g711.jsonl")
    )
    async with open_page(CHROMIUM, html.as_uri()) as page:
        assert await page.evaluate("document.body.getAttribute('data-ready')") == "1"
        shown = await page.evaluate("document.querySelectorAll('.events details').length")
        assert shown == messages
        assert await page.evaluate("document.body.dataset.events") == str(messages)
        texts = await page.evaluate(
            "[...document.querySelectorAll('li.finding')].map(li => li.textContent)"
        )
        assert len(texts) == 2 and "Response failed (server_error)" in texts[0]
        # A finding's link opens and highlights its event.
        opened = await page.evaluate(
            "(() => { const a = document.querySelector('li.finding a');"
            " a.click(); const d = document.getElementById(a.getAttribute('href').slice(1));"
            " return [d.open, d.classList.contains('hl'), d.dataset.seq]; })()"
        )
        assert opened == [True, True, "140"]
        players = await page.evaluate(
            """Promise.all([...document.querySelectorAll('audio')].map(a => new Promise(res => {
                 const done = () => res({d: a.duration, e: a.error && a.error.code,
                                         wav: a.canPlayType('audio/wav')});
                 if (a.readyState >= 1) { done(); return; }
                 a.addEventListener('loadedmetadata', done);
                 a.addEventListener('error', done);
                 a.load();
               })))"""
        )
        # ga: user input 5.3 s, answers 0.7 s and 0.6 s; beta: μ-law 0.6 s, A-law 0.5 s.
        durations = sorted(round(p["d"], 1) for p in players)
        assert durations == [0.5, 0.6, 0.6, 0.7, 5.3]
        assert all(p["e"] is None and p["wav"] for p in players)
        await screenshot(page, tmp_path / "report.png")
        assert page.problems() == []
    assert (tmp_path / "report.png").stat().st_size > 10_000


async def test_injected_markup_does_not_run_in_the_browser(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    capture = write_xss_capture(tmp_path / "xss.jsonl")
    reader = open_source(capture)
    html = tmp_path / "xss.html"
    html.write_text(render_html(build_report([(reader.name, iter(reader))])), encoding="utf-8")
    async with open_page(CHROMIUM, html.as_uri()) as page:
        assert await page.evaluate("document.body.getAttribute('data-pwned')") is None
        assert await page.evaluate("document.querySelectorAll('img').length") == 0
        assert await page.evaluate("document.scripts.length") == 1
        # open + 6 events + 1 text message
        assert await page.evaluate("document.querySelectorAll('.events details').length") == 8
        assert page.problems() == []
