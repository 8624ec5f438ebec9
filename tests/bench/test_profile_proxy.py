"""The py-spy raw-output summarizer of the profile scripts (py-spy itself is optional)."""

from __future__ import annotations

from pathlib import Path

from profile_proxy import summarize

RAW = """\
process 1:"python";<module> (rtscope:8);run (asyncio/runners.py:190);websocket_message (rtscope/proxy/addon.py:312);might_hold_secret (rtscope/capture/redact.py:111) 30
process 1:"python";<module> (rtscope:8);run (asyncio/runners.py:190);write (asyncio/selector_events.py:1057) 60
process 1:"python";<module> (rtscope:8);run (asyncio/runners.py:190) 10
"""


def test_summarize_reports_self_and_total_shares(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(RAW)
    out = summarize(raw, 10)
    assert "100 samples" in out
    self_part, total_part = out.split("total (including callees):")
    assert "60.0%  write (asyncio/selector_events.py)" in self_part
    assert "30.0%  might_hold_secret (capture/redact.py)" in self_part
    assert "100.0%  run (asyncio/runners.py)" in total_part
    assert "30.0%  websocket_message (proxy/addon.py)" in total_part
