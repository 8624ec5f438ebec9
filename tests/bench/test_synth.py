"""Synthetic captures: valid capture v1 read by the real reader, realistic mix, cached by size."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import synth

from rtscope.capture.reader import CaptureReader


@pytest.mark.parametrize("version", [1, 2])
def test_a_synthetic_capture_reads_cleanly_and_has_a_voice_session_mix(
    bench_cache: Path, version: int
) -> None:
    path = synth.capture(0.5, version=version)
    assert path.parent == bench_cache
    assert f"synth-v{version}-" in path.name
    reader = CaptureReader(path)
    kinds: Counter[str] = Counter()
    types: Counter[str] = Counter()
    seqs: list[int] = []
    times: list[float] = []
    for record in reader:
        kinds[record["kind"]] += 1
        if record["kind"] == "msg":
            types[record["event"]["type"]] += 1
            seqs.append(record["seq"])
            times.append(record["t"])
    assert reader.problems == []
    assert kinds["open"] == kinds["close"] == 1
    assert seqs == list(range(len(seqs)))
    assert times == sorted(times)
    for expected in (
        "session.created",
        "input_audio_buffer.append",
        "input_audio_buffer.speech_started",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.done",
    ):
        assert types[expected] > 0, expected
    mix = synth.mix(path)
    assert mix["messages"] == len(seqs)
    assert (
        mix["audio_messages"]
        == types["input_audio_buffer.append"] + (types["response.output_audio.delta"])
    )
    if version == 1:
        assert 0.6 <= mix["audio_bytes"] <= 0.8
        assert 0.25 <= mix["audio_msg_share"] <= 0.45
    else:  # the mix: ~70 % of messages are audio
        assert 0.7 <= mix["audio_msg_share"] <= 0.8
        assert 0.8 <= mix["audio_bytes"] <= 0.95


def test_v2_streams_the_microphone_while_the_assistant_speaks(bench_cache: Path) -> None:
    speaking = False
    appends_while_speaking = 0
    words = audio_deltas = 0
    for record in CaptureReader(synth.capture(0.5, version=2)):
        etype = record.get("event", {}).get("type")
        if etype == "response.created":
            speaking = True
        elif etype == "response.done":
            speaking = False
        elif etype == "input_audio_buffer.append" and speaking:
            appends_while_speaking += 1
        elif etype == "response.output_audio_transcript.delta":
            words += 1
        elif etype == "response.output_audio.delta":
            audio_deltas += 1
    assert appends_while_speaking > 0
    # transcript at speech rate: ~3.5 words per second of audio, 60 ms of audio per delta
    assert 2.5 <= words / (audio_deltas * 0.06) <= 4.5


def test_size_field_is_the_length_of_the_embedded_event(bench_cache: Path) -> None:
    import orjson

    path = synth.capture(0.2)
    for record in CaptureReader(path):
        if record["kind"] == "msg":
            assert record["size"] == len(orjson.dumps(record["event"]))


def test_captures_are_cached_by_size(bench_cache: Path) -> None:
    first = synth.capture(0.3)
    stamp = first.stat().st_mtime_ns
    again = synth.capture(0.3)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert 0.3e6 <= first.stat().st_size < 0.3e6 + 1_000_000  # it ends on a whole turn


@pytest.mark.parametrize("version", [1, 2])
def test_analysis_of_a_synthetic_capture_is_the_same_on_the_fast_path(
    bench_cache: Path, version: int
) -> None:
    from rtscope.analyzers import analyze

    path = synth.capture(1.0, version=version)
    full = analyze(CaptureReader(path), fast_events=False)
    fast = analyze(CaptureReader(path, count_audio=True))
    assert [f.to_dict() for f in fast] == [f.to_dict() for f in full]
