"""``rtscope serve``: loopback by default, the simulator and a capture, clear input errors."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from rtscope.cli.serve import parse_listen
from rtscope.errors import InputError
from tests.replay.captures import TEXT_SESSION, write_capture

from .replay_cli import rtscope


def test_listen_defaults_to_loopback_and_refuses_others_without_allow_remote():
    assert parse_listen("127.0.0.1:0", False) == ("127.0.0.1", 0)
    assert parse_listen(":8800", False) == ("127.0.0.1", 8800)
    with pytest.raises(InputError, match="0.0.0.0 is not a loopback address"):
        parse_listen("0.0.0.0:8800", False)
    assert parse_listen("0.0.0.0:8800", True) == ("0.0.0.0", 8800)
    with pytest.raises(InputError, match="bad address"):
        parse_listen("127.0.0.1:http", False)


def test_list_scenarios_names_every_scenario():
    done = rtscope("serve", "--list-scenarios")
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == [
        "default",
        "modality-race",
        "stalled-response",
        "error-storm",
        "session-expiry",
        "abnormal-close",
        "rate-limited",
        "slow-first-audio",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--simulate", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["missing.jsonl"], "missing.jsonl: no such file"),
        (["--simulate", "--listen", "10.0.0.1:1"], "10.0.0.1 is not a loopback address"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    done = rtscope("serve", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtscope", "serve", "--listen", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.rsplit(" on ", 1)[1].strip()


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.communicate(timeout=10)


def test_simulator_serves_the_ga_dialect():
    proc, url = serve("--simulate", "--scenario", "stalled-response")
    try:
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/v1/realtime")
        with connect(url) as ws:
            assert orjson.loads(ws.recv(timeout=5))["type"] == "session.created"
            ws.send('{"type":"response.create"}')
            types = [orjson.loads(ws.recv(timeout=5))["type"] for _ in range(2)]
            assert types == ["response.created", "rate_limits.updated"]
    finally:
        stop(proc)


def test_capture_is_served_strictly(tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    proc, url = serve(str(capture), "--strict")
    try:
        with connect(url) as ws:
            assert orjson.loads(ws.recv(timeout=5))["type"] == "session.created"
            ws.send('{"type":"response.create"}')
            error = orjson.loads(ws.recv(timeout=5))
            assert "expected session.update, received response.create" in error["error"]["message"]
            with pytest.raises(ConnectionClosedError):
                ws.recv(timeout=5)
            assert ws.close_code == 1008
    finally:
        stop(proc)
