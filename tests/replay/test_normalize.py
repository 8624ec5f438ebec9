"""Steps: delta runs collapsed, ids normalized, only distinguishing attributes kept."""

from __future__ import annotations

from rtscope.replay.normalize import IdNormalizer, steps


def msg(side: str, event: dict, t: float = 0.0) -> dict:
    return {"kind": "msg", "from": side, "t": t, "seq": 1, "event": event}


def test_ids_become_kind_and_ordinal():
    ids = IdNormalizer()
    assert [ids("item_X"), ids("resp_Y"), ids("item_Z"), ids("item_X"), ids("msg_1")] == [
        "item#1",
        "resp#1",
        "item#2",
        "item#1",
        "item#3",
    ]


def test_interleaved_delta_runs_collapse_into_one_step_with_counts():
    records = [
        msg("server", {"type": "response.output_audio.delta", "delta": "AA"}),
        msg("server", {"type": "response.output_audio_transcript.delta", "delta": "a"}),
        msg("server", {"type": "response.output_audio.delta", "delta": "AA"}),
        msg("server", {"type": "response.done", "response": {"status": "completed"}}),
    ]
    out = steps(records)
    assert [s.type for s in out] == ["deltas", "response.done"]
    assert out[0].deltas == (
        ("response.output_audio.delta", 2),
        ("response.output_audio_transcript.delta", 1),
    )


def test_two_sessions_with_different_ids_and_delta_counts_give_equal_keys():
    def session(prefix: str, n: int) -> list[dict]:
        return [
            msg(
                "server",
                {
                    "type": "response.created",
                    "event_id": prefix,
                    "response": {"id": f"resp_{prefix}", "output_modalities": ["audio"]},
                },
            ),
            *[
                msg(
                    "server",
                    {
                        "type": "response.output_audio.delta",
                        "response_id": f"resp_{prefix}",
                        "delta": "x",
                    },
                )
                for _ in range(n)
            ],
            msg(
                "server",
                {
                    "type": "response.done",
                    "response": {
                        "id": f"resp_{prefix}",
                        "status": "completed",
                        "output": [{"type": "message", "content": [{"type": "output_audio"}]}],
                    },
                },
            ),
        ]

    assert [s.key for s in steps(session("A", 3))] == [s.key for s in steps(session("B", 9))]


def test_modalities_content_types_and_statuses_are_kept():
    (step,) = steps(
        [
            msg(
                "server",
                {
                    "type": "response.done",
                    "response": {
                        "status": "cancelled",
                        "status_details": {"reason": "turn_detected"},
                        "modalities": ["audio", "text"],
                        "output": [{"type": "message", "content": [{"type": "text"}]}],
                    },
                },
            )
        ]
    )
    attrs = dict(step.attrs)
    assert attrs["modalities"] == ("audio", "text")
    assert attrs["status"] == "cancelled"
    assert attrs["reason"] == "turn_detected"
    assert attrs["output"] == ("message:text",)


def test_side_filter_and_append_runs():
    records = [msg("client", {"type": "input_audio_buffer.append", "audio": "x"})] * 3 + [
        msg("server", {"type": "input_audio_buffer.speech_started", "item_id": "item_1"})
    ]
    (client,) = steps(records, "client")
    assert (client.type, client.count) == ("input_audio_buffer.append", 3)
    assert [s.type for s in steps(records, "server")] == ["input_audio_buffer.speech_started"]
