"""The pytest plugin, exercised by running pytest inside pytest (pytester)."""

from __future__ import annotations

import shutil

import pytest

from tests.replay.captures import TEXT_SESSION, write_capture

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def test_capture_marker_serves_the_recording_next_to_the_test(pytester: pytest.Pytester):
    write_capture(pytester.path / "session.jsonl", TEXT_SESSION)
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import json
        import pytest
        from websockets.sync.client import connect

        @pytest.mark.rtscope_capture("session.jsonl", strict=True)
        def test_served(rtscope_capture):
            assert rtscope_capture.url.startswith("ws://127.0.0.1:")
            assert rtscope_capture.base_url + "/realtime" == rtscope_capture.url
            with connect(rtscope_capture.url) as ws:
                assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
                ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
                assert json.loads(ws.recv(timeout=5))["type"] == "session.updated"

        def test_without_marker_is_a_usage_error(rtscope_capture):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*needs @pytest.mark.rtscope_capture*"])


def test_simulator_fixture_runs_the_marked_scenario(pytester: pytest.Pytester):
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import json
        import pytest
        from websockets.sync.client import connect

        def events(ws, n):
            return [json.loads(ws.recv(timeout=5))["type"] for _ in range(n)]

        def test_default(rtscope_simulator):
            with connect(rtscope_simulator.url) as ws:
                assert events(ws, 1) == ["session.created"]

        @pytest.mark.rtscope_scenario("stalled-response")
        def test_stalled(rtscope_simulator):
            with connect(rtscope_simulator.url) as ws:
                events(ws, 1)
                ws.send('{"type":"response.create"}')
                assert events(ws, 2) == ["response.created", "rate_limits.updated"]
                with pytest.raises(TimeoutError):
                    ws.recv(timeout=0.5)

        @pytest.mark.rtscope_scenario("session-expiry", expiry_s=0.2)
        def test_expiry(rtscope_simulator):
            with connect(rtscope_simulator.url) as ws:
                assert events(ws, 2) == ["session.created", "error"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_readme_example_runs(pytester: pytest.Pytester, tmp_path):
    """The example of docs/replay.md (the lead copies it into README) passes as written."""
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "replay.md").read_text()
    example = doc.split("```python\n# test_realtime_client.py\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_realtime_client=example)
    cassettes = pytester.path / "cassettes"
    cassettes.mkdir()
    write_capture(cassettes / "hello.jsonl", TEXT_SESSION)
    pytester.makeini(INI + "asyncio_mode = auto\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    shutil.rmtree(cassettes)
