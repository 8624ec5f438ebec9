"""Synthetic captures: valid capture v1 read by the real reader, realistic mix, cached by size."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import synth

from rtscope.capture.reader import CaptureReader


def test_a_synthetic_capture_reads_cleanly_and_has_a_voice_session_mix(bench_cache: Path) -> None:
    path = synth.capture(0.5)
    assert path.parent == bench_cache
    reader = CaptureReader(path)
    kinds: Counter[str] = Counter()
    types: Counter[str] = Counter()
    seqs: list[int] = []
    for record in reader:
        kinds[record["kind"]] += 1
        if record["kind"] == "msg":
            types[record["event"]["type"]] += 1
            seqs.append(record["seq"])
    assert reader.problems == []
    assert kinds["open"] == kinds["close"] == 1
    assert seqs == list(range(len(seqs)))
    for expected in (
        "session.created",
        "input_audio_buffer.append",
        "input_audio_buffer.speech_started",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.done",
    ):
        assert types[expected] > 0, expected
    assert 0.6 <= synth.audio_share(path) <= 0.8


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
