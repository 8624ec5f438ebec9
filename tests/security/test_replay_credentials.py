"""Replay sends only to ``--target`` and never sends credentials the user did not give this run.

A session is recorded through the real recorder from a client that authenticated every way it
can (``Authorization: Bearer sk-…``, Azure ``api-key`` header and query parameter, the
subprotocol key). ``rtscope replay`` (a real subprocess) then replays it against a second local
server that keeps each handshake: without ``OPENAI_API_KEY`` or ``--header`` no credential is
sent; with them, exactly those values are. The server the capture was recorded from gets nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
import websockets

from rtscope.capture.redact import SECRET_HEADERS, SECRET_QUERY_KEYS
from rtscope.proxy.master import RecordConfig, RecordProxy
from tests.proxy.realtime_server import RealtimeServer

RECORDED_KEY = "sk-proj-RECORDEDkey0123456789abcdefghijklmnop"
AZURE_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
QUERY_KEY = "QUERYkey0123456789abcdef"
SUBPROTOCOL_KEY = "sk-SUBPROTOCOLkey0123456789abcdefghijk"
NEW_KEY = "sk-THISRUNkey0123456789abcdefghijklmnopq"

Recorded = tuple[Path, RealtimeServer]


async def _record(upstream: RealtimeServer, out: Path, confdir: Path) -> Path:
    proxy = RecordProxy(
        RecordConfig(
            upstream=upstream.url, listen_port=0, out=out, confdir=str(confdir), quiet=True
        )
    )
    _, port = await proxy.start()
    try:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime&api-key={QUERY_KEY}",
            additional_headers={
                "Authorization": f"Bearer {RECORDED_KEY}",
                "api-key": AZURE_KEY,
            },
            subprotocols=["realtime", f"openai-insecure-api-key.{SUBPROTOCOL_KEY}"],  # type: ignore[list-item]
        ) as ws:
            await ws.recv()
            await ws.send(orjson.dumps({"type": "session.update", "session": {}}).decode())
            await ws.recv()
        await asyncio.wait_for(upstream.connections[0].closed.wait(), 5)
        await asyncio.sleep(0.3)
    finally:
        await proxy.stop()
    (capture,) = out.glob("*.jsonl")
    return capture


async def _replay(
    capture: Path, target: str, out: Path, env: dict[str, str], *extra: str
) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtscope", "replay", str(capture), "--target", target,
        "--timing", "asap", "--out", str(out), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, (stdout + stderr).decode()


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")
    }
    env.update(extra)
    return env


def _credentials(headers: dict[str, str], path: str) -> dict[str, str]:
    """Every credential-carrying part of a handshake as the target server saw it."""
    found = {k: v for k, v in headers.items() if k in SECRET_HEADERS}
    for entry in headers.get("sec-websocket-protocol", "").split(","):
        if entry.strip().startswith("openai-insecure-api-key."):
            found["subprotocol"] = entry.strip()
    for key, value in parse_qsl(urlsplit(path).query):
        if key.lower().replace("-", "_") in SECRET_QUERY_KEYS:
            found[f"query {key}"] = value
    return found


@pytest.fixture
async def recorded(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Recorded]:
    async with RealtimeServer() as upstream:
        capture = await _record(upstream, tmp_path / "captures", tmp_path_factory.mktemp("conf"))
        assert upstream.connections[0].headers["authorization"] == f"Bearer {RECORDED_KEY}"
        yield capture, upstream


@pytest.mark.parametrize("target_path", ["/v1/realtime", ""])
async def test_without_key_or_header_no_credential_is_sent_and_only_to_target(
    recorded: Recorded, target_path: str, tmp_path: Path
) -> None:
    """Also with a bare --target, which takes the recorded path and query."""
    capture, upstream = recorded
    async with RealtimeServer() as target:
        code, output = await _replay(
            capture, f"ws://127.0.0.1:{target.port}{target_path}", tmp_path / "r", _env()
        )
        assert code == 0, output
        assert len(target.connections) == 1
        conn = target.connections[0]
        assert _credentials(conn.headers, conn.path) == {}
        seen = orjson.dumps(conn.headers).decode() + conn.path
        for secret in (RECORDED_KEY, AZURE_KEY, QUERY_KEY, SUBPROTOCOL_KEY, "REDACTED"):
            assert secret not in seen
        assert "model=gpt-realtime" in conn.path
    assert len(upstream.connections) == 1  # the recorded server got nothing from the replay


async def test_openai_api_key_of_this_run_is_the_only_credential_sent(
    recorded: Recorded, tmp_path: Path
) -> None:
    capture, upstream = recorded
    async with RealtimeServer() as target:
        code, output = await _replay(
            capture, f"ws://127.0.0.1:{target.port}/v1/realtime", tmp_path / "r",
            _env(OPENAI_API_KEY=NEW_KEY),
        )  # fmt: skip
        assert code == 0, output
        conn = target.connections[0]
        assert _credentials(conn.headers, conn.path) == {"authorization": f"Bearer {NEW_KEY}"}
    assert len(upstream.connections) == 1


async def test_a_header_given_this_run_is_sent_as_given(recorded, tmp_path: Path) -> None:
    capture, _ = recorded
    async with RealtimeServer() as target:
        code, output = await _replay(
            capture, f"ws://127.0.0.1:{target.port}/v1/realtime", tmp_path / "r", _env(),
            "--header", "api-key: azure-key-of-this-run",
        )  # fmt: skip
        assert code == 0, output
        conn = target.connections[0]
        assert _credentials(conn.headers, conn.path) == {"api-key": "azure-key-of-this-run"}


async def test_an_unreachable_target_is_an_error_not_a_fallback_to_the_recorded_url(
    recorded: Recorded, tmp_path: Path
) -> None:
    capture, upstream = recorded
    with socketless_port() as port:
        code, output = await _replay(
            capture, f"ws://127.0.0.1:{port}/v1/realtime", tmp_path / "r", _env()
        )
    assert code == 3, output
    assert output.strip().splitlines()[-1].startswith("rtscope: ")
    assert len(upstream.connections) == 1


class socketless_port:  # noqa: N801 - used as a context manager
    """A loopback port nothing listens on (bound, never listening, for the duration)."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return int(self._sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
