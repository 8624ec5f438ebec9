"""``rtscope replay`` end to end in a subprocess, against the simulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from rtscope.pytest_plugin import Endpoint, ServerThread
from rtscope.replay.sim import SimOptions, simulator_factory
from tests.replay.captures import TEXT_SESSION, write_capture

from .replay_cli import rtscope


@pytest.fixture
def simulator() -> Iterator[Endpoint]:
    server = ServerThread(simulator_factory(SimOptions()))
    endpoint = server.start()
    yield endpoint
    server.stop()


def test_json_output_lists_every_run_with_its_capture(simulator, tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    done = rtscope(
        "replay",
        str(capture),
        "--target",
        simulator.url,
        "--repeat",
        "2",
        "--timing",
        "asap,ack",
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    out = orjson.loads(done.stdout)
    assert [(r["timing"], r["index"]) for r in out["runs"]] == [
        ("asap", 1),
        ("asap", 2),
        ("ack", 1),
        ("ack", 2),
    ]
    for run in out["runs"]:
        assert run["capture"].startswith(str(tmp_path / "out"))
        assert isinstance(run["findings"], list)
        assert set(run["lateness"]) == {"count", "p50_ms", "p99_ms", "max_ms"}
    assert "table" in out
    # asap deletes item_A1 before the new server has created its counterpart: reported.
    # ack waits for the answer to response.create: the reference is rewritten.
    unmapped = {run["timing"]: run["unmapped"] for run in out["runs"]}
    assert unmapped["asap"] == [
        "#11 conversation.item.delete item_id=item_A1 (item #2, not seen in the new session)"
    ]
    assert unmapped["ack"] == []
    # progress lines went to stderr, not into the JSON
    assert "run asap #1" in done.stderr


def test_text_output_prints_lateness_per_run(simulator, tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    done = rtscope("replay", str(capture), "--target", simulator.url, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "run original #1: sent 4," in done.stdout
    assert "lateness p50" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timing", "soon"], "unknown timing 'soon'"),
        (["--speed", "0"], "--speed: must be above 0"),
        (["--header", "no-colon"], "bad header 'no-colon'"),
    ],
)
def test_bad_options_exit_2(tmp_path, args, message):
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    done = rtscope("replay", str(capture), "--target", "ws://127.0.0.1:9", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_unreachable_target_exits_3(tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", TEXT_SESSION)
    done = rtscope("replay", str(capture), "--target", "ws://127.0.0.1:9", "--out", str(tmp_path))
    assert done.returncode == 3
    assert done.stderr.startswith("rtscope: cannot connect to ws://127.0.0.1:9/")
