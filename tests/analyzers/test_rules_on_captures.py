"""Every rule fires on the capture scripted to show it, and stays quiet on the near misses.

The captures were recorded by tests/fixtures/captures/record_fixtures.py: the real openai SDK
client (GA and beta) through rtscope's recorder (RecordProxy) to a scripted local Realtime server;
the files are the recorder's own captures. ``EXPECTED`` there was written
with each scenario's script (what it was built to show), not from the rules' output.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rtscope.analyzers import analyze, registry

CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"

_spec = importlib.util.spec_from_file_location("record_fixtures", CAPTURES / "record_fixtures.py")
assert _spec is not None and _spec.loader is not None
record_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record_fixtures)
EXPECTED: dict[str, set[str]] = record_fixtures.EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_gives_exactly_the_scripted_findings(name, capture):
    found = {f.rule for f in analyze(capture(name))}
    assert found == EXPECTED[name]


def test_every_rule_fires_on_some_capture_or_seed():
    fired = set().union(*EXPECTED.values())
    assert fired == set(registry.rule_names())


# rule → a capture close to its firing one where it must stay quiet (and why)
NEAR_MISS = {
    "text-only-response": "ga-text-session",  # text answers while output_modalities is text
    "sent-before-session-created": "ga-text-session",  # waits for session.created
    "sent-before-session-updated": "ga-audio-turn",  # waits for session.updated
    "session-update-rejected": "ga-audio-turn",  # update accepted
    "update-not-applied": "ga-tools-ok",  # tools applied as requested
    "server-error": "ga-collision",  # the error is explained by active-response-collision
    "response-failed": "ga-response-incomplete",
    "response-incomplete": "beta-response-failed",
    "response-never-done": "ga-cancel-active",  # cancelled, but done
    "active-response-collision": "ga-tools-ok",  # second create after the first is done
    "invalid-client-event": "ga-audio-turn",
    "missing-ack": "ga-audio-turn",
    "commit-too-short": "ga-audio-turn",  # 300 ms committed
    "unanswered-function-call": "ga-tools-ok",
    "tool-output-without-response": "ga-tools-ok",
    "tool-output-rejected": "ga-tools-ok",
    "interruption-not-truncated": "ga-barge-in-truncated",
    "truncate-out-of-range": "ga-barge-in-truncated",  # 550 ms of 3 000 ms
    "speech-never-stopped": "beta-transcription-ok",  # speech stops
    "audio-format-mismatch": "ga-speech-never-stopped",  # 16.5 s at the declared rate
    "transcription-failed": "beta-transcription-ok",
    "session-expired": "ga-audio-turn",
    "abnormal-close": "ga-session-expired",  # 1001 going away
    "dialect-mismatch": "ga-audio-turn",
    "rate-limit-low": "ga-audio-turn",  # 79 000 of 80 000 tokens left
    "lifecycle-violation": "ga-response-incomplete",
    "beta-api": "ga-audio-turn",
    "vad-never-fired": "ga-speech-never-stopped",  # VAD fired
    "cancel-without-response": "ga-cancel-active",  # cancel while the response runs
    "vad-too-eager": "ga-echo",  # cancelled after the answer's audio began
    "echo-self-interruption": "beta-vad-eager",  # cancelled before any audio
    "session-expiring": "ga-audio-turn",  # expires in an hour
    "runaway-audio": "ga-barge-in-no-truncate",  # 3 s of audio for its transcript
    "transcript-hallucination": "beta-transcription-ok",  # "Hello."
    "azure-url-dialect": "beta-azure-preview",  # beta events on the preview URL
    "audio-shorter-than-transcript": "ga-audio-long-ok",  # 6 s for the same 112 characters
    "audio-delta-after-done": "ga-audio-turn",  # every delta before output_audio.done
    "orphan-response": "ga-cancel-idle",  # cancel after the response; nothing follows
    "out-of-band-response-empty": "ga-oob-ok",  # the out-of-band response returns text
}


def test_every_rule_has_a_near_miss():
    assert set(NEAR_MISS) == set(registry.rule_names())


@pytest.mark.parametrize(("rule", "name"), sorted(NEAR_MISS.items()))
def test_rule_stays_quiet_on_its_near_miss(rule, name, capture):
    assert rule not in {f.rule for f in analyze(capture(name))}


def test_text_only_race_names_the_update_and_the_gap(capture):
    (f,) = analyze(capture("beta-modality-race"), select=["text-only-response"])
    assert f.details["cause"] == "modality-switch-race"
    assert f.details["gap_ms"] is not None and 0 <= f.details["gap_ms"] < 1500


def test_interruption_reports_how_far_ahead_the_audio_was(capture):
    (f,) = analyze(capture("ga-barge-in-no-truncate"))
    # 3 000 ms were generated at once; the user spoke ~0.5 s into playback
    assert 2000 < f.details["ahead_ms"] < 2800


def test_session_update_rejected_lists_requested_and_effective(capture):
    (f,) = analyze(capture("ga-update-rejected"), select=["session-update-rejected"])
    assert f.details["requested"] == {"modalities": ["text"], "voice": "ash"}
    assert f.details["effective"] == {"modalities": ["audio"], "voice": "alloy"}
    assert f.details["link"] == "event_id"


def test_invalid_ga_session_update_names_path_and_unknown_fields(capture):
    (f,) = analyze(capture("ga-update-rejected"), select=["invalid-client-event"])
    paths = [p["path"] for p in f.details["problems"]]
    assert paths[0] == "$.session.type"
    assert f.details["dialect"] == "ga"


def test_invalid_ga_item_names_allowed_values(capture):
    (f,) = analyze(capture("ga-invalid-item"), select=["invalid-client-event"])
    problem = f.details["problems"][0]
    assert problem["path"] == "$.item.content[0].type"
    assert problem["allowed"] == ["input_text", "input_audio", "input_image"]


def test_beta_retirement_close_is_named(capture):
    (f,) = analyze(capture("beta-retired"), select=["abnormal-close"])
    assert f.details["code"] == 4000 and f.details["beta_retired"] is True
    assert "retired" in f.message and "OpenAI-Beta" in f.hint


def test_missing_ack_needs_timestamps(capture):
    records = capture("ga-missing-ack")
    assert {f.rule for f in analyze(records)} == {"missing-ack"}
    untimed = [{**r, "t": None} for r in records]
    assert "missing-ack" not in {f.rule for f in analyze(untimed)}


def test_vad_too_eager_measures_the_pause(capture):
    (f,) = analyze(capture("beta-vad-eager"), select=["vad-too-eager"])
    assert 400 <= f.details["pause_ms"] < 1000  # the client paused 0.5 s
    assert f.details["silence_duration_ms"] == 200


def test_echo_needs_two_cancelled_answers(capture):
    records = capture("ga-echo")
    (f,) = analyze(records, select=["echo-self-interruption"])
    assert len(f.details["delays_ms"]) == 2
    assert all(300 <= d <= 1000 for d in f.details["delays_ms"])  # the client waited 0.4 s
    # only the first of the two cancelled answers: not yet a pattern
    second = max(r["seq"] for r in records if r.get("event", {}).get("type") == "response.created")
    assert (
        analyze(
            [r for r in records if r.get("seq", -1) < second or r["kind"] != "msg"],
            select=["echo-self-interruption"],
        )
        == []
    )


def test_missing_transcription_needs_five_seconds_of_waiting(capture):
    records = capture("beta-transcription-missing")
    (f,) = analyze(records, select=["transcription-failed"])
    assert "never arrived" in f.message
    done = max(
        i for i, r in enumerate(records) if r.get("event", {}).get("type") == "response.done"
    )
    early_end = records[: done + 1] + [{**records[-1], "t": records[done]["t"]}]  # closed at once
    assert analyze(early_end, select=["transcription-failed"]) == []


def test_commit_after_a_vad_commit_counts_only_audio_after_speech_stopped():
    def msg(seq, frm, ev, t):
        return {"kind": "msg", "conn": "c", "seq": seq, "t": t, "from": frm, "event": ev}

    chunk = {"type": "input_audio_buffer.append", "audio": "A" * 6400}  # 100 ms of pcm16
    records = [
        {"kind": "open", "conn": "c", "t": 0.0, "url": "ws://x", "request_headers": {}},
        msg(0, "server", {"type": "session.created", "session": {"type": "realtime"}}, 0.0),
        msg(1, "client", chunk, 0.1),
        msg(2, "server", {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 100}, 0.2),
        msg(3, "client", chunk, 0.3),
        msg(4, "client", chunk, 0.4),
        msg(5, "server", {"type": "input_audio_buffer.committed", "item_id": "u"}, 0.5),
        msg(6, "client", {"type": "input_audio_buffer.commit"}, 0.6),
    ]
    # 200 ms appended after speech_stopped stay buffered: the manual commit is long enough
    assert analyze(records, select=["commit-too-short"]) == []
    without_tail = [r for r in records if r.get("seq") not in (3, 4)]
    (f,) = analyze(without_tail, select=["commit-too-short"])
    assert f.details["buffered_ms"] == 0
