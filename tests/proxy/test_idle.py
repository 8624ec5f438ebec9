"""No idle cut: the recorder lifts mitmproxy's 600 s idle timeout (and the mechanism is real)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets

from rtscope.proxy.idle import NEVER, effective_timeout

from .conftest import StartProxy


def _watchdog_timeouts(proxy: Any) -> list[int]:
    proxyserver = proxy.master.addons.get("proxyserver")
    return [h.timeout_watchdog.timeout for h in proxyserver.connections.values()]


def test_zero_means_never() -> None:
    assert effective_timeout(0) == NEVER >= 365 * 24 * 3600
    assert effective_timeout(30) == 30


async def test_default_connection_has_no_idle_cut(start_proxy: StartProxy) -> None:
    from mitmproxy.proxy import server

    proxy, port = await start_proxy()
    assert server.TCP_TIMEOUT == NEVER
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        # The timeout the proxy actually uses for this live connection:
        assert _watchdog_timeouts(proxy) == [NEVER]
        await asyncio.sleep(2.2)  # idle longer than the cut-off of the test below
        await ws.send("echo:still here")
        assert await ws.recv() == "echo:still here"


@pytest.mark.parametrize("idle_timeout", [1])
async def test_idle_timeout_option_drives_the_watchdog(
    idle_timeout: int, start_proxy: StartProxy
) -> None:
    """With a 1 s limit an idle session is cut: the option really sets what mitmproxy enforces."""
    proxy, port = await start_proxy(idle_timeout=idle_timeout)
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=m") as ws:
        await ws.recv()
        assert _watchdog_timeouts(proxy) == [idle_timeout]
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert proxy.recorder.summaries and proxy.recorder.summaries[0]["code"] == 1006
