"""Small helpers shared by rules: time gaps and error explanations."""

from __future__ import annotations

from typing import Any

from ...protocol.session import ErrorInfo, SessionState

__all__ = ["EXPLAINED_BY", "explaining_rule", "gap_ms", "item_kind"]


def gap_ms(later: float | None, earlier: float | None) -> int | None:
    """``later - earlier`` in whole ms, or ``None`` when either time is unknown."""
    if later is None or earlier is None:
        return None
    return round((later - earlier) * 1000)


def item_kind(req_event: dict[str, Any]) -> str | None:
    item = req_event.get("item")
    return item.get("type") if isinstance(item, dict) else None


#: error code → the rule that reports it more specifically than ``server-error``
EXPLAINED_BY = {
    "conversation_already_has_active_response": "active-response-collision",
    "input_audio_buffer_commit_empty": "commit-too-short",
    "session_expired": "session-expired",
    "invalid_tool_call_id": "tool-output-rejected",
    "response_cancel_not_active": "cancel-without-response",
}


def explaining_rule(s: SessionState, err: ErrorInfo) -> str | None:
    """The rule that explains ``err`` better than ``server-error`` does, if any."""
    if err.code in EXPLAINED_BY:
        return EXPLAINED_BY[err.code]
    req = err.request
    if req is None:
        return None
    if req.type in ("session.update", "transcription_session.update"):
        return "session-update-rejected"
    if req.type == "conversation.item.truncate":
        return "truncate-out-of-range"
    if req.type == "conversation.item.create" and item_kind(req.event) == "function_call_output":
        return "tool-output-rejected"
    return None
