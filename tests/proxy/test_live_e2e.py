"""Live findings end to end: openai SDK → RecordProxy (real LiveAnalyzer) → simulator.

Each session is a real ``openai`` SDK client talking through rtscope's in-process recorder to the
protocol simulator (:mod:`rtscope.replay.sim`) run with a fault scenario. What is checked:

- each finding is printed at once on the recorder's stderr as ``[rule] conn: message``;
- each finding is appended to the capture as a ``{"kind": "finding", ...}`` record, and the line
  printed and the record written say the same thing;
- a later batch analysis of that capture (``rtscope analyze``'s core, which skips finding
  records) gives exactly the findings written live;
- the finding the scenario was built to cause is among them (the scenario's description says
  what it does; the rule names below come from that, not from the rules' output).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rtscope.analyzers import analyze
from rtscope.capture.sources import open_source
from rtscope.cli import cli as cli_main
from rtscope.proxy.master import RecordConfig, RecordProxy
from rtscope.replay.demo_client import run_demo_session
from rtscope.replay.sim import SimOptions, simulator_factory
from rtscope.replay.wsserver import start_server

from .conftest import WRITERS, only_capture, records

Session = Callable[[str], Awaitable[None]]


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest) -> str:
    """Live analysis runs in the proxy's hooks, and in the writer process."""
    return str(request.param)


@pytest.fixture
async def live_recorder(
    tmp_path: Path, confdir: Path, writer: str
) -> AsyncIterator[Callable[..., Awaitable[tuple[Path, str]]]]:
    """``capture, stderr = await run(scenario, session)``: one SDK session through the proxy."""
    cleanups: list[Any] = []

    async def run(scenario: str, session: Session, **options: Any) -> tuple[Path, str]:
        server = await start_server(
            simulator_factory(SimOptions(scenario=scenario, seed=7, **options))
        )
        cleanups.append(server)
        port = server.sockets[0].getsockname()[1]
        err = io.StringIO()
        out = tmp_path / scenario
        proxy = RecordProxy(
            RecordConfig(
                upstream=f"http://127.0.0.1:{port}",
                listen_port=0,
                out=out,
                confdir=str(confdir),
                quiet=True,
                live=True,
                writer=writer,  # type: ignore[arg-type]
            ),
            err=err,
        )
        cleanups.append(proxy)
        _, proxy_port = await proxy.start()
        await session(f"ws://127.0.0.1:{proxy_port}/v1")
        await asyncio.sleep(0.3)  # the close travels through the proxy
        await proxy.stop()
        return only_capture(out), err.getvalue()

    yield run
    for thing in reversed(cleanups):
        if isinstance(thing, RecordProxy):
            await thing.stop()
        else:
            thing.close()
            await thing.wait_closed()


async def _stalled_session(base_url: str) -> None:
    """One text item and response.create; waits a little for an answer that never comes."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key="sk-live-test", websocket_base_url=base_url)
    async with client.realtime.connect(model="gpt-realtime") as conn:
        async for event in conn:
            if event.type == "session.created":
                break
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello?"}],
            }
        )
        await conn.response.create()
        try:
            async with asyncio.timeout(1.0):
                async for event in conn:
                    if event.type == "response.done":  # pragma: no cover - the fault
                        break
        except TimeoutError:
            pass
    await client.close()


async def _error_storm_session(base_url: str) -> None:
    """One response.create, read until its response.done (status failed in this scenario)."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key="sk-live-test", websocket_base_url=base_url)
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.response.create()
        async with asyncio.timeout(10):
            async for event in conn:
                if event.type == "response.done":
                    break
    await client.close()


def _check_live_matches_batch(capture: Path, stderr: str) -> list[dict[str, Any]]:
    """Printed lines == finding records == a batch analysis of the same capture."""
    recs = records(capture)
    live = [r for r in recs if r["kind"] == "finding"]
    printed = [line for line in stderr.splitlines() if line.startswith("[")]
    assert printed == [f"[{f['rule']}] {f['conn']}: {f['message']}" for f in live]
    batch = analyze(open_source(capture))
    assert sorted((f.rule, f.seq, f.message) for f in batch) == sorted(
        (f["rule"], f["seq"], f["message"]) for f in live
    )
    return live


async def test_modality_race_text_only_answer_is_reported_live(
    live_recorder: Callable[..., Awaitable[tuple[Path, str]]],
) -> None:
    capture, stderr = await live_recorder(
        "modality-race", lambda url: run_demo_session(url, dialect="beta", chunk_gap_s=0.0)
    )
    live = _check_live_matches_batch(capture, stderr)
    rules = {f["rule"] for f in live}
    assert "text-only-response" in rules
    race = next(f for f in live if f["rule"] == "text-only-response")
    assert race["details"]["cause"] == "modality-switch-race"
    # It was written as soon as the response ended, before the close record (not at the end).
    kinds = [(r["kind"], r.get("rule")) for r in records(capture)]
    assert kinds.index(("finding", "text-only-response")) < kinds.index(("close", None))


async def test_stalled_response_is_reported_at_close(
    live_recorder: Callable[..., Awaitable[tuple[Path, str]]],
) -> None:
    capture, stderr = await live_recorder("stalled-response", _stalled_session)
    live = _check_live_matches_batch(capture, stderr)
    assert "response-never-done" in {f["rule"] for f in live}


async def test_error_storm_errors_and_failed_response_are_reported_live(
    live_recorder: Callable[..., Awaitable[tuple[Path, str]]],
) -> None:
    capture, stderr = await live_recorder("error-storm", _error_storm_session)
    live = _check_live_matches_batch(capture, stderr)
    rules = {f["rule"] for f in live}
    assert {"server-error", "response-failed"} <= rules


async def test_default_session_gives_no_live_finding(
    live_recorder: Callable[..., Awaitable[tuple[Path, str]]],
) -> None:
    capture, stderr = await live_recorder("default", _error_storm_session)
    assert _check_live_matches_batch(capture, stderr) == []
    assert stderr == ""


def test_analyze_cli_skips_finding_records(tmp_path: Path) -> None:
    """A capture with finding records analyzes like the same capture without them."""
    fixture = Path(__file__).parents[1] / "fixtures" / "captures" / "beta-never-done.jsonl"
    lines = fixture.read_bytes().splitlines(keepends=True)
    bogus = b'{"kind":"finding","rule":"server-error","severity":"error","conn":"x","seq":1,'
    bogus += b'"t":null,"message":"not a real finding","details":{},"hint":null}\n'
    with_finding = tmp_path / "with.jsonl"
    with_finding.write_bytes(b"".join([*lines[:3], bogus, *lines[3:]]))
    runner = CliRunner()
    a = runner.invoke(cli_main, ["analyze", "--format", "json", "--fail-on", "info", str(fixture)])
    b = runner.invoke(
        cli_main, ["analyze", "--format", "json", "--fail-on", "info", str(with_finding)]
    )
    found_a, found_b = json.loads(a.output)["findings"], json.loads(b.output)["findings"]
    assert "response-never-done" in {f["rule"] for f in found_a}
    assert [f["message"] for f in found_a] == [f["message"] for f in found_b]
