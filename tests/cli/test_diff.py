"""``rtscope diff``: exit 0 equivalent, 1 diverge, 2 bad input (one line)."""

from __future__ import annotations

import orjson

from tests.replay.captures import TEXT_SESSION, write_capture

from .replay_cli import rtscope


def test_same_session_with_other_ids_is_equivalent(tmp_path):
    a = write_capture(tmp_path / "a.jsonl", TEXT_SESSION)
    renamed = orjson.loads(
        orjson.dumps(TEXT_SESSION).replace(b"resp_R1", b"resp_ZZ").replace(b"item_A1", b"item_QQ")
    )
    b = write_capture(tmp_path / "b.jsonl", [tuple(m) for m in renamed])
    done = rtscope("diff", str(a), str(b))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "equivalent" in done.stdout


def test_a_text_answer_instead_of_audio_diverges_and_says_where(tmp_path):
    a = write_capture(tmp_path / "a.jsonl", TEXT_SESSION)
    changed = orjson.loads(
        orjson.dumps(TEXT_SESSION).replace(b'"output_text","text"', b'"output_audio","transcript"')
    )
    b = write_capture(tmp_path / "b.jsonl", [tuple(m) for m in changed])
    done = rtscope("diff", str(a), str(b))
    assert done.returncode == 1
    assert "first at server step" in done.stdout
    assert "response.done differs: output: [message:output_text] → [message:output_audio]" in (
        done.stdout
    )


def test_json_format(tmp_path):
    a = write_capture(tmp_path / "a.jsonl", TEXT_SESSION)
    b = write_capture(tmp_path / "b.jsonl", TEXT_SESSION[:-2])
    done = rtscope("diff", str(a), str(b), "--format", "json")
    assert done.returncode == 1
    out = orjson.loads(done.stdout)
    assert out["equivalent"] is False
    assert {d["kind"] for d in out["divergences"]} == {"missing"}


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    a = write_capture(tmp_path / "a.jsonl", TEXT_SESSION)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind":"msg"\n')
    for other in (str(tmp_path / "missing.jsonl"), str(bad)):
        done = rtscope("diff", str(a), other)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1
        assert done.stderr.startswith(f"rtscope: {other}")
