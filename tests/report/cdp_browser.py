"""A headless Chromium driven over the DevTools protocol (for the HTML report tests).

Starts Debian's ``chromium`` with the flags of this machine kind (no sandbox, no background
networking, a fresh profile), opens one page through a flat DevTools session on the browser's
WebSocket (the ``websockets`` client), and collects console messages, exceptions and log
entries (CSP violations land there) while the page loads.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def find_chromium() -> str | None:
    for name in (os.environ.get("RTSCOPE_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Page:
    def __init__(self, ws: Any, session: str) -> None:
        self.ws = ws
        self.session = session
        self.ids = itertools.count(100)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.loaded = asyncio.Event()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = fut
        await self.ws.send(
            json.dumps(
                {"id": msg_id, "method": method, "params": params, "sessionId": self.session}
            )
        )
        reply = await asyncio.wait_for(fut, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and error log entries seen so far."""
        out = []
        for ev in self.events:
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(params.get("exceptionDetails"))[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
            ):
                out.append("console: " + json.dumps(params.get("args"))[:500])
            elif method == "Log.entryAdded" and params["entry"].get("level") in (
                "error",
                "warning",
            ):
                out.append("log: " + params["entry"].get("text", "")[:500])
        return out


async def _reader(ws: Any, page: Page) -> None:
    async for raw in ws:
        msg = json.loads(raw)
        if "id" in msg and msg["id"] in page.pending:
            page.pending.pop(msg["id"]).set_result(msg)
        elif msg.get("sessionId") == page.session:
            page.events.append(msg)
            if msg.get("method") == "Page.loadEventFired":
                page.loaded.set()


def open_page(chromium: str, url: str, width: int = 1280, height: int = 1600) -> _Browser:
    """An async context manager yielding a loaded :class:`Page`."""
    return _Browser(chromium, url, width, height)


class _Browser:
    def __init__(self, chromium: str, url: str, width: int, height: int) -> None:
        self.chromium, self.url, self.width, self.height = chromium, url, width, height

    async def __aenter__(self) -> Page:
        self.profile = tempfile.mkdtemp(prefix="rtscope-chromium-")
        self.proc = await asyncio.create_subprocess_exec(
            self.chromium,
            *FLAGS,
            f"--user-data-dir={self.profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(port_file.read_text().splitlines()) >= 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("chromium did not open its DevTools port")
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = await connect(f"ws://127.0.0.1:{port}{path}", max_size=None)
        await self.ws.send(
            json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}})
        )
        target = json.loads(await self.ws.recv())["result"]["targetId"]
        await self.ws.send(
            json.dumps(
                {
                    "id": 2,
                    "method": "Target.attachToTarget",
                    "params": {"targetId": target, "flatten": True},
                }
            )
        )
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") == 2:
                session = msg["result"]["sessionId"]
                break
        page = Page(self.ws, session)
        self.task = asyncio.create_task(_reader(self.ws, page))
        for domain in ("Runtime", "Log", "Page"):
            await page.call(f"{domain}.enable")
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await page.call("Page.navigate", url=self.url)
        await asyncio.wait_for(page.loaded.wait(), 30)
        return page

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await self.ws.close()
        self.proc.terminate()
        await self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


async def screenshot(page: Page, path: Path) -> None:
    data = await page.call("Page.captureScreenshot", format="png")
    path.write_bytes(base64.b64decode(data["data"]))
