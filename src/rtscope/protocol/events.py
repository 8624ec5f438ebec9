"""Event-type tables of the OpenAI Realtime API (beta and GA), as data.

Client and server event type names are disjoint, so the direction of an event seen without
context (a pasted log, bare-event JSONL) follows from its ``type`` alone.
"""

from __future__ import annotations

__all__ = ["AUDIO_FIELDS", "CLIENT_EVENT_TYPES", "direction_of"]

#: Every client → server event type of the beta and GA dialects (and GPT-Live, detect only).
CLIENT_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "session.update",
        "transcription_session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
        "output_audio_buffer.clear",
        # GPT-Live (out of scope beyond direction)
        "session.start",
        "session.input_audio.append",
        "session.input_audio.mute",
        "session.input_audio.unmute",
        "session.close",
        "session.instructions.append",
        "response.item.create",
    }
)

#: Event types whose payload carries base64 audio, and where: (type, path to the base64 string).
#: ``None`` in a path means "every element of this list".
AUDIO_FIELDS: dict[str, tuple[str, ...]] = {
    "input_audio_buffer.append": ("audio",),
    "response.audio.delta": ("delta",),
    "response.output_audio.delta": ("delta",),
    "session.input_audio.append": ("audio",),
}


def direction_of(event_type: str) -> str:
    """``"client"`` for a client event type, else ``"server"``."""
    return "client" if event_type in CLIENT_EVENT_TYPES else "server"
