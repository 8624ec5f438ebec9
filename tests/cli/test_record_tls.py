"""``rtscope record --tls`` with a Node client from the npm ``openai`` package (wss:// only)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from rtscope.capture.reader import CaptureReader

from ..proxy.realtime_server import RealtimeServer
from .test_record import start_record

NODE_DIR = Path(__file__).resolve().parents[1] / ".node"  # gitignored

CLIENT = r"""
const { OpenAI } = require('openai');
const { OpenAIRealtimeWS } = require('openai/realtime/ws');
const client = new OpenAI({ apiKey: process.env.TEST_KEY, baseURL: process.env.TEST_BASE });
const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime' }, client);
const seen = [];
rt.on('event', (e) => seen.push(e.type));
rt.socket.on('open', () => {
  rt.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Be brief.' } });
  rt.send({ type: 'response.create' });
});
rt.on('response.done', () => {
  console.log(JSON.stringify({ url: String(rt.url), seen }));
  rt.close();
});
rt.on('error', (err) => { console.error('client error: ' + err.message); process.exit(2); });
"""


@pytest.fixture(scope="session")
def node_openai() -> Path:
    """``openai`` and ``ws`` from npm, installed once into tests/.node (skip if impossible)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not installed")
    if not (NODE_DIR / "node_modules" / "openai" / "realtime" / "ws.js").exists():
        NODE_DIR.mkdir(exist_ok=True)
        (NODE_DIR / "package.json").write_text('{"name": "rtscope-test-node", "private": true}\n')
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "openai", "ws"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=240,
        )
        if result.returncode != 0:
            pytest.skip(f"npm cannot install openai/ws (no registry?): {result.stderr[-300:]}")
    return NODE_DIR


async def test_node_openai_realtime_ws_through_tls_listener(
    node_openai: Path, tmp_path: Path, confdir: Path
) -> None:
    async with RealtimeServer() as server:
        out = tmp_path / "captures"
        proc, port = await start_record(
            "--tls", "--upstream", server.url, "--out", str(out), "--confdir", str(confdir)
        )
        ca = confdir / "mitmproxy-ca-cert.pem"
        try:
            assert ca.exists()
            client = await asyncio.create_subprocess_exec(
                "node",
                "-e",
                CLIENT,
                cwd=node_openai,
                env={
                    **os.environ,
                    "NODE_EXTRA_CA_CERTS": str(ca),
                    "TEST_KEY": "sk-test-NODEKEYabcdefghijklmnop012345",
                    # plain https base URL: OpenAIRealtimeWS turns it into wss://
                    "TEST_BASE": f"https://127.0.0.1:{port}/v1",
                },
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(client.communicate(), 30)
            assert client.returncode == 0, stderr.decode()
            result = json.loads(stdout)
            assert result["url"].startswith(f"wss://127.0.0.1:{port}/v1/realtime")
            assert result["seen"][0] == "session.created" and result["seen"][-1] == "response.done"
            await server.connections[0].closed.wait()
            await asyncio.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGINT)
            banner, _ = await asyncio.wait_for(proc.communicate(), 20)
    text = banner.decode()
    assert f"NODE_EXTRA_CA_CERTS={ca}" in text and f"SSL_CERT_FILE={ca}" in text
    (path,) = out.glob("*.jsonl")
    recs = list(CaptureReader(path))
    msgs = [r for r in recs if r["kind"] == "msg"]
    assert len(msgs) == len(server.connections[0].order)
    assert [m["event"]["type"] for m in msgs if m["from"] == "client"] == [
        "session.update",
        "response.create",
    ]
    assert b"NODEKEY" not in path.read_bytes()
