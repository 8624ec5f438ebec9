"""Shared fixtures: simulator servers and a real capture of the seed-000 demo session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rtscope.replay.demo_client import run_demo_session
from rtscope.replay.sim import SimOptions, simulator_factory
from rtscope.replay.wsserver import start_server

from .relay import recording_relay


@pytest.fixture
async def simulator_url() -> AsyncIterator[str]:
    """ws://127.0.0.1:PORT of a default-scenario simulator in the test's loop."""
    server = await start_server(simulator_factory(SimOptions()))
    try:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def record_demo(path: Path, scenario: str = "modality-race", dialect: str = "beta") -> Path:
    server = await start_server(simulator_factory(SimOptions(scenario=scenario)))
    try:
        upstream = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with recording_relay(upstream, path) as url:
            await run_demo_session(url + "/v1", dialect=dialect)
    finally:
        server.close()
        await server.wait_closed()
    return path


@pytest.fixture(scope="session")
def demo_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture of the seed-000 demo client (real openai SDK) against the modality-race
    simulator, recorded through the test relay. Made once per test session."""
    path = tmp_path_factory.mktemp("demo") / "demo.jsonl"
    return asyncio.run(record_demo(path))
