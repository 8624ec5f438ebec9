"""One recording proxy per process: mitmproxy routes every connection through its global master.

mitmproxy 11's ``proxy/mode_servers.py`` hands each new connection to ``ctx.master``, the last
master created, so a second RecordProxy would receive the first one's connections and record them
with its own settings (found when a fixture script ran a "keep" and a "drop" recorder at once).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rtscope.errors import RecorderError

from .conftest import StartProxy


async def test_a_second_proxy_in_the_same_process_is_refused_clearly(
    tmp_path: Path, start_proxy: StartProxy
) -> None:
    first, _ = await start_proxy(out=tmp_path / "keep", audio="keep")
    with pytest.raises(RecorderError, match="already running in this process"):
        await start_proxy(out=tmp_path / "drop", audio="drop")
    await first.stop()
    second, port = await start_proxy(out=tmp_path / "drop", audio="drop")  # fine once stopped
    assert port > 0
    assert second.recorder.audio == "drop"
