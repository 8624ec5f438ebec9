"""Alignment of two sessions: equivalent, changed attributes, missing and extra steps."""

from __future__ import annotations

from rtscope.replay.diff import diff_records, format_diff

from .test_normalize import msg


def done(content: str, t: float = 1.0) -> dict:
    return msg(
        "server",
        {
            "type": "response.done",
            "response": {
                "status": "completed",
                "modalities": ["audio", "text"],
                "output": [{"type": "message", "content": [{"type": content}]}],
            },
        },
        t,
    )


BASE = [
    msg("client", {"type": "session.update", "session": {"modalities": ["audio", "text"]}}, 0.0),
    msg("server", {"type": "session.updated", "session": {"modalities": ["audio", "text"]}}, 0.1),
    msg("client", {"type": "response.create"}, 0.2),
    msg("server", {"type": "response.created", "response": {"id": "resp_1"}}, 0.3),
]


def test_same_session_is_equivalent():
    result = diff_records(BASE + [done("audio")], BASE + [done("audio", 1.4)])
    assert result.equivalent
    assert "equivalent" in format_diff(result, "a", "b")
    assert "largest shift +400 ms" in format_diff(result, "a", "b")


def test_text_instead_of_audio_is_a_changed_step_naming_the_attribute():
    result = diff_records(BASE + [done("audio")], BASE + [done("text")])
    assert not result.equivalent
    (d,) = result.divergences
    assert d.kind == "changed"
    assert d.summary() == (
        "server step 3 (A) / 3 (B): response.done differs: output: [message:audio] → [message:text]"
    )


def test_missing_and_extra_steps():
    a = BASE + [done("audio")]
    b = (
        BASE[:1]
        + BASE[2:]
        + [done("audio"), msg("server", {"type": "error", "error": {"code": "x"}})]
    )
    kinds = [(d.side, d.kind) for d in diff_records(a, b).divergences]
    assert kinds == [("server", "missing"), ("server", "extra")]


def test_client_server_interleaving_is_not_a_divergence():
    reordered = [BASE[0], BASE[2], BASE[1], BASE[3]]
    assert diff_records(BASE, reordered).equivalent


def test_finding_differences_make_sessions_diverge():
    result = diff_records(BASE, BASE, findings=(["text-only-response"], []))
    assert result.findings_only_a == ["text-only-response"]
    assert not result.equivalent
