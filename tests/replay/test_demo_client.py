"""The seed-000 demo client (real openai SDK) against the simulator, in both dialects."""

from __future__ import annotations

import pytest

from rtscope.capture.sources import open_source

from .conftest import record_demo


def responses(path) -> list[dict]:
    return [
        r["event"]["response"]
        for r in open_source(path)
        if r.get("kind") == "msg"
        and r["event"].get("type") in ("response.created", "response.done")
    ]


def content_types(done: dict) -> list[str]:
    return [c["type"] for item in done["output"] for c in item.get("content", [])]


@pytest.mark.parametrize(
    ("dialect", "requested", "text_part"),
    [("beta", ["audio", "text"], "text"), ("ga", ["audio"], "output_text")],
)
async def test_modality_race_gives_a_text_only_answer_to_an_audio_request(
    tmp_path, dialect, requested, text_part
):
    path = await record_demo(tmp_path / "demo.jsonl", dialect=dialect)
    created1, done1, created2, done2 = responses(path)
    key = "modalities" if dialect == "beta" else "output_modalities"
    assert done1[key] == ["text"] and content_types(done1) == [text_part]  # correct text answer
    assert sorted(created2[key]) == requested  # audio was requested…
    assert content_types(done2) == [text_part]  # …but the answer is text-only
    assert done2["usage"]["output_token_details"]["audio_tokens"] == 0


async def test_without_the_race_the_answer_after_the_switch_has_audio(tmp_path):
    path = await record_demo(tmp_path / "demo.jsonl", scenario="default")
    *_, done2 = responses(path)
    assert content_types(done2) == ["audio"]
