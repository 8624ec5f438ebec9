"""``mitmdump -s`` with rtscope's script, its per-message hook cut down to one variant.

A bench candidate (``--only addon-hook:<variant>`` in proxy_throughput.py), not a product: a
variant of :mod:`hook_variant` (``noop``: the hook does nothing but trim mitmproxy's message list)
applied to the recorder inside a stock mitmdump, with the rest of the script as it is (the
recorder's other hooks, backpressure). ``addon-hook:noop`` is the floor of any recorder hook in
mitmdump: what loading a script with a ``websocket_message`` hook costs by itself. The variant
comes from ``RTSCOPE_HOOK_VARIANT``.

    RTSCOPE_HOOK_VARIANT=noop mitmdump -s bench/addon_variant.py --set rtscope_dir=… --mode …
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hook_variant import VARIANTS, install  # noqa: E402

variant = os.environ.get("RTSCOPE_HOOK_VARIANT", "")
if variant not in VARIANTS:
    raise SystemExit(f"RTSCOPE_HOOK_VARIANT must be one of {', '.join(VARIANTS)}")
install(variant)

from rtscope.proxy.script import addons  # noqa: E402

__all__ = ["addons"]
