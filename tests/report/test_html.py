"""rtscope.report.html: a self-contained page, escaped, with counts a reader can check."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from rtscope.analyzers.findings import Finding, Severity
from rtscope.capture.sources import open_source
from rtscope.report.html import render_html
from rtscope.report.model import build_report
from tests.report.xss_capture import PAYLOAD, write_xss_capture

FIXTURES = Path(__file__).parent / "fixtures"


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def page_for(path: Path, findings: list[Finding] | None = None) -> str:
    reader = open_source(path)
    return render_html(build_report([(reader.name, iter(reader))], findings or []))


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def test_captured_markup_is_escaped_everywhere(tmp_path: Path) -> None:
    finding = Finding(
        "F-07" + PAYLOAD, Severity.ERROR, "x<b>1", 1, None, PAYLOAD, PAYLOAD, {PAYLOAD: PAYLOAD}
    )
    page = page_for(write_xss_capture(tmp_path / "xss.jsonl"), [finding])
    tags = parse(page).tags
    assert [t for t, _ in tags].count("script") == 1  # only the report's own
    assert not [t for t, _ in tags if t == "img"]
    assert not any(k.startswith("on") for _, attrs in tags for k in attrs)
    assert "<script>document" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.body" in page


def test_page_fetches_nothing_and_allows_only_its_own_script() -> None:
    page = page_for(FIXTURES / "ga_voice.jsonl")
    tags = parse(page).tags
    csp = next(a["content"] for t, a in tags if t == "meta" and a.get("http-equiv"))
    assert csp is not None and "default-src 'none'" in csp and "script-src 'sha256-" in csp
    for tag, attrs in tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value)
    assert not re.search(r"https?://(?!api\.openai\.com)", page.split("<script>")[0])


def test_body_counts_events_findings_and_players() -> None:
    finding = Finding("F-25", Severity.ERROR, "1", 5, None, "failed")
    page = page_for(FIXTURES / "ga_voice.jsonl", [finding])
    body = next(a for t, a in parse(page).tags if t == "body")
    messages = (FIXTURES / "ga_voice.jsonl").read_bytes().count(b'"kind":"msg"')
    assert body["data-events"] == str(messages + 2)  # with the open and close records
    assert body["data-findings"] == "1"
    assert body["data-clips"] == "3"
    details = [a for t, a in parse(page).tags if t == "details"]
    assert len(details) == messages + 2
    assert sum(1 for t, _ in parse(page).tags if t == "audio") == 3


def test_findings_come_first_and_link_to_their_event() -> None:
    finding = Finding("F-25", Severity.ERROR, "1", 5, None, "Response failed", "Retry it")
    page = page_for(FIXTURES / "ga_voice.jsonl", [finding])
    assert page.index("id='findings'") < page.index("class='conn'")
    target = re.search(r"<details id='ev-(\d+)'[^>]*data-seq='5'", page)
    assert target is not None
    assert f"href='#ev-{target.group(1)}'" in page.split("id='findings'")[1].split("</section>")[0]
    assert "Fix: Retry it" in page


def test_outcome_colors_and_latency_table_are_present() -> None:
    page = page_for(FIXTURES / "ga_voice.jsonl")
    outcomes = re.findall(r"class='span (\w+)' data-outcome", page)
    assert outcomes.count("speech") == 4
    assert [o for o in outcomes if o != "speech"] == [
        "audio",
        "function",
        "text",
        "cancelled",
        "failed",
    ]
    assert "<table class='latency'>" in page and "text only" in page


def test_a_finding_about_the_whole_connection_links_to_its_start() -> None:
    whole = Finding("abnormal-close", Severity.ERROR, "b", None, None, "closed with 1006")
    page = page_for(FIXTURES / "beta_g711.jsonl", [whole])
    findings = page.split("id='findings'")[1].split("</section>")[0]
    first = re.search(r"<details id='(ev-\d+)'", page)
    assert first is not None
    assert f"<a href='#{first.group(1)}'>the connection</a>" in findings


def test_bursts_of_deltas_are_one_bar_on_the_timeline() -> None:
    page = page_for(FIXTURES / "ga_voice.jsonl")
    svg = page.split("<svg class='timeline'")[1].split("</svg>")[0]
    client_runs = re.findall(r"<rect class='run client'[^>]*><title>([^<]*)</title>", svg)
    # Three spoken turns: 20, 17 and 16 appends of 100 ms, 1.5 s or more apart.
    assert [t.split(" ", 1)[1] for t in client_runs] == [
        "input_audio_buffer.append ×20",
        "input_audio_buffer.append ×17",
        "input_audio_buffer.append ×16",
    ]
    server_runs = re.findall(r"<rect class='run server'[^>]*><title>([^<]*)</title>", svg)
    assert server_runs[0].endswith(
        "response.output_audio_transcript.delta ×7, response.output_audio.delta ×7"
    )
