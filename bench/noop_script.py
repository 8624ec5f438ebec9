"""A ``mitmdump -s`` script with one empty ``websocket_message`` hook and nothing of rtscope.

A bench candidate (``--only script-noop``), not a product: what any script that watches
WebSocket messages costs in a stock mitmdump (mitmproxy pauses the layer for each message while
the hook runs), below ``addon-hook:noop`` (rtscope's script with its message hook doing nothing,
backpressure and the other hooks still loaded). The floor of targets 1 and 2 for ``mitmdump -s``.

    mitmdump -s bench/noop_script.py --mode …
"""

from __future__ import annotations

from typing import Any


class Noop:
    def websocket_message(self, flow: Any) -> None:
        pass


addons = [Noop()]
