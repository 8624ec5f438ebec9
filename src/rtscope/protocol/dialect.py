"""Which dialect (beta or GA) one event is written in, judged from that event alone.

Detection is per event because sessions mix in practice (a half-migrated client, a server that
emits beta names to a GA client); a mix is itself a finding (rule ``dialect-mismatch``). Most
events are neutral (``error``, ``input_audio_buffer.*``…): they return ``None``.

Signals: renamed event types (§2.2 of the protocol notes) and renamed fields (§2.3):
``session.type``, ``output_modalities`` vs ``modalities``, nested ``audio`` vs flat formats,
assistant content ``output_text`` vs ``text``.
"""

from __future__ import annotations

from typing import Any, Literal

from .config import as_list

__all__ = ["BETA", "GA", "Dialect", "dialect_of", "handshake_dialect"]

Dialect = Literal["beta", "ga"]
BETA: Dialect = "beta"
GA: Dialect = "ga"

_GA_PREFIXES = (
    "response.output_text.",
    "response.output_audio.",
    "response.output_audio_transcript.",
    "response.mcp_call",
    "mcp_list_tools.",
)
_GA_TYPES = frozenset(
    {
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.segment",
    }
)
_BETA_PREFIXES = ("response.text.", "response.audio.", "response.audio_transcript.")
_BETA_TYPES = frozenset(
    {
        "transcription_session.update",
        "transcription_session.updated",
        "transcription_session.created",
    }
)
_BETA_SESSION_FIELDS = ("modalities", "input_audio_format", "output_audio_format", "voice")
_GA_SESSION_FIELDS = ("output_modalities", "audio", "type")
_SESSION_TYPES = frozenset({"session.update", "session.created", "session.updated"})
_RESPONSE_TYPES = frozenset({"response.create", "response.created", "response.done"})


def _session_dialect(session: Any) -> Dialect | None:
    if not isinstance(session, dict):
        return None
    if any(f in session for f in _GA_SESSION_FIELDS):
        return GA
    if any(f in session for f in _BETA_SESSION_FIELDS):
        return BETA
    return None


def _content_dialect(item: Any) -> Dialect | None:
    if not isinstance(item, dict):
        return None
    for part in as_list(item.get("content")):
        if isinstance(part, dict):
            ctype = part.get("type")
            if ctype in ("output_text", "output_audio"):
                return GA
            if ctype in ("text", "audio") and item.get("role") == "assistant":
                return BETA
    return None


def dialect_of(event: dict[str, Any]) -> Dialect | None:
    """``"beta"``, ``"ga"`` or ``None`` (neutral) for one event."""
    etype = event.get("type")
    if not isinstance(etype, str):
        return None
    if etype in _GA_TYPES or etype.startswith(_GA_PREFIXES):
        return GA
    if etype in _BETA_TYPES or etype.startswith(_BETA_PREFIXES):
        return BETA
    if etype in _SESSION_TYPES:
        return _session_dialect(event.get("session"))
    if etype in _RESPONSE_TYPES:
        response = event.get("response")
        if isinstance(response, dict):
            if "output_modalities" in response:
                return GA
            if "modalities" in response:
                return BETA
            for item in as_list(response.get("output")):
                found = _content_dialect(item)
                if found:
                    return found
        return None
    if etype in ("conversation.item.create", "conversation.item.created"):
        return _content_dialect(event.get("item"))
    return None


def handshake_dialect(open_record: dict[str, Any] | None) -> Dialect | None:
    """The dialect a recorded handshake asked for: beta with the ``OpenAI-Beta: realtime=v1``
    header or the ``openai-beta.realtime-v1`` subprotocol, else GA; ``None`` without one."""
    if not open_record:
        return None
    headers = open_record.get("request_headers")
    if not isinstance(headers, dict):
        return None
    beta = "realtime=v1" in str(headers.get("openai-beta", ""))
    beta |= "openai-beta.realtime-v1" in str(headers.get("sec-websocket-protocol", ""))
    return BETA if beta else GA
