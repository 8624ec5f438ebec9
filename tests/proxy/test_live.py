"""Live findings plumbing: records go to the live analyzer, findings to stderr and the capture."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
import websockets

import rtscope.analyzers
from rtscope.analyzers.findings import Finding, Severity
from rtscope.proxy.live import load_live_analyzer

from .conftest import StartProxy, only_capture, records
from .realtime_server import RealtimeServer


class OneRuleAnalyzer:
    """Stands in for the analyzers package's LiveAnalyzer (same interface), one trivial rule."""

    fed: list[dict[str, Any]] = []

    def feed(self, record: dict[str, Any]) -> list[Finding]:
        OneRuleAnalyzer.fed.append(record)
        event = record.get("event") or {}
        if record.get("kind") == "msg" and event.get("type") == "response.done":
            return [
                Finding(
                    "demo-rule",
                    Severity.WARNING,
                    record["conn"],
                    record["seq"],
                    record["t"],
                    "a response finished",
                )
            ]
        return []

    def finish(self, conn: str) -> list[Finding]:
        return [Finding("demo-end", Severity.INFO, conn, None, None, "connection over")]


async def _one_response(port: int, server: RealtimeServer) -> None:
    """A client asks for one response, reads it whole and leaves; returns once the capture is
    closed."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        await ws.send('{"type":"response.create"}')
        while "response.done" not in await ws.recv():
            pass
    await server.connections[0].closed.wait()
    await asyncio.sleep(0.2)  # the close hook runs after both sides closed


def test_missing_live_analyzer_means_live_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(rtscope.analyzers, "LiveAnalyzer", raising=False)
    assert load_live_analyzer() is None


async def test_findings_printed_and_appended_to_capture(
    start_proxy: StartProxy,
    realtime_server: RealtimeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rtscope.analyzers, "LiveAnalyzer", OneRuleAnalyzer, raising=False)
    OneRuleAnalyzer.fed = []
    err = io.StringIO()
    _, port = await start_proxy(err=err, live=True)
    await _one_response(port, realtime_server)
    recs = records(only_capture(tmp_path / "captures"))
    conn = recs[1]["conn"]
    lines = err.getvalue().splitlines()
    assert lines == [
        f"[demo-rule] {conn}: a response finished",
        f"[demo-end] {conn}: connection over",
    ]
    findings = [r for r in recs if r["kind"] == "finding"]
    assert [f["rule"] for f in findings] == ["demo-rule", "demo-end"]
    assert findings[0]["severity"] == "warning"
    # The analyzer got plain records: open, every msg with its event parsed, close.
    kinds = [r["kind"] for r in OneRuleAnalyzer.fed]
    assert kinds[0] == "open" and kinds[-1] == "close"
    assert all(isinstance(r["event"], dict) for r in OneRuleAnalyzer.fed if "event" in r)


class FailingAnalyzer(OneRuleAnalyzer):
    """Raises on every message record (the hook's own live path), not on open and close."""

    def feed(self, record: dict[str, Any]) -> list[Finding]:
        if record.get("kind") == "msg":
            raise RuntimeError("analyzer broke")
        return super().feed(record)


async def test_a_failing_live_analyzer_is_reported_once_and_recording_goes_on(
    start_proxy: StartProxy,
    realtime_server: RealtimeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rtscope.analyzers, "LiveAnalyzer", FailingAnalyzer, raising=False)
    err = io.StringIO()
    _, port = await start_proxy(err=err, live=True)
    await _one_response(port, realtime_server)
    recs = records(only_capture(tmp_path / "captures"))
    conn = recs[1]["conn"]
    broke = [line for line in err.getvalue().splitlines() if "analyzer broke" in line]
    assert len(broke) == 1 and "while running live analyzers" in broke[0]
    errors = [r for r in recs if r["kind"] == "error"]
    assert [e["where"] for e in errors] == ["running live analyzers"]
    # every message was still recorded, and the end of the connection still reached the analyzer
    msgs = [r for r in recs if r["kind"] == "msg"]
    assert msgs[0]["event"]["type"] == "session.created"
    assert msgs[-1]["event"]["type"] == "response.done"
    assert [r["rule"] for r in recs if r["kind"] == "finding"] == ["demo-end"]
    assert recs[-1]["conn"] == conn
