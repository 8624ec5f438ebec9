"""Which server event acknowledges which client event (protocol notes §2.1), as a table.

Every client event except ``input_audio_buffer.append`` gets a success acknowledgement or an
``error``. The analyzers keep a client event "pending" until one of its ack types (or an error
linked to it) arrives.
"""

from __future__ import annotations

__all__ = ["ACKS", "ERROR_CODE_SOURCES", "expects_ack"]

#: client event type → the server event types that acknowledge it (beta and GA spellings).
ACKS: dict[str, frozenset[str]] = {
    "session.update": frozenset({"session.updated", "transcription_session.updated"}),
    "transcription_session.update": frozenset({"transcription_session.updated", "session.updated"}),
    "input_audio_buffer.commit": frozenset({"input_audio_buffer.committed"}),
    "input_audio_buffer.clear": frozenset({"input_audio_buffer.cleared"}),
    "conversation.item.create": frozenset({"conversation.item.created", "conversation.item.added"}),
    "conversation.item.retrieve": frozenset({"conversation.item.retrieved"}),
    "conversation.item.truncate": frozenset({"conversation.item.truncated"}),
    "conversation.item.delete": frozenset({"conversation.item.deleted"}),
    "response.create": frozenset({"response.created"}),
    "response.cancel": frozenset({"response.done"}),
    "output_audio_buffer.clear": frozenset({"output_audio_buffer.cleared"}),
}

#: error code → the client event type that causes it (correlation step 2 of protocol notes §4).
ERROR_CODE_SOURCES: dict[str, str] = {
    "conversation_already_has_active_response": "response.create",
    "input_audio_buffer_commit_empty": "input_audio_buffer.commit",
    "response_cancel_not_active": "response.cancel",
    "cannot_update_voice": "session.update",
    "invalid_tool_call_id": "conversation.item.create",
    "unsupported_content_type": "conversation.item.truncate",
}


def expects_ack(client_type: str) -> bool:
    """Whether a client event of this type should be answered by an ack or an error."""
    return client_type in ACKS
