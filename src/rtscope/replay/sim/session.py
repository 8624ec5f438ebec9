"""Session configuration of the simulator: defaults, validation of ``session.update``, merging.

Both dialects, as the protocol reference (realtime-protocol.md) §2.1 and §2.3 describe them:

- beta: a flat session (``modalities``, ``voice``, ``input_audio_format``, ``turn_detection``…);
  ``modalities`` must be ``["text"]`` or ``["text", "audio"]`` (either order).
- GA: ``session.type`` is required; audio settings nest under ``audio.input``/``audio.output``;
  ``output_modalities`` is exactly one of ``["text"]`` or ``["audio"]``; formats are objects.

A refused update applies none of its fields (the real server's behaviour): :func:`apply_update`
returns either the whole new session or one :class:`Refusal`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Dialect",
    "Refusal",
    "apply_update",
    "audio_format",
    "default_session",
    "modalities_of",
    "turn_detection_of",
    "voice_of",
]

Dialect = Literal["beta", "ga"]

_BETA_KEYS = frozenset(
    {
        "modalities",
        "instructions",
        "voice",
        "input_audio_format",
        "output_audio_format",
        "input_audio_transcription",
        "input_audio_noise_reduction",
        "turn_detection",
        "tools",
        "tool_choice",
        "temperature",
        "max_response_output_tokens",
        "include",
        "model",
        "speed",
        "tracing",
        "client_secret",
    }
)
_GA_KEYS = frozenset(
    {
        "type",
        "model",
        "output_modalities",
        "instructions",
        "audio",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "tracing",
        "truncation",
        "prompt",
        "include",
        "reasoning",
        "parallel_tool_calls",
    }
)
_GA_AUDIO_INPUT_KEYS = frozenset({"format", "transcription", "noise_reduction", "turn_detection"})
_GA_AUDIO_OUTPUT_KEYS = frozenset({"format", "voice", "speed"})
_BETA_FORMATS = ("pcm16", "g711_ulaw", "g711_alaw")
_GA_FORMATS = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
_TURN_TYPES = ("server_vad", "semantic_vad")

DEFAULT_INSTRUCTIONS = "You are a helpful assistant (rtscope simulator)."


@dataclass(frozen=True)
class Refusal:
    """Why an update was refused: the fields of the ``error`` event."""

    code: str
    message: str
    param: str | None
    type: str = "invalid_request_error"


def _server_vad() -> dict[str, Any]:
    return {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
        "create_response": True,
        "interrupt_response": True,
    }


def default_session(
    dialect: Dialect, session_id: str, model: str, expires_at: int
) -> dict[str, Any]:
    """The session of ``session.created``: the server's defaults for ``dialect``."""
    if dialect == "beta":
        return {
            "id": session_id,
            "object": "realtime.session",
            "expires_at": expires_at,
            "input_audio_noise_reduction": None,
            "turn_detection": _server_vad(),
            "input_audio_format": "pcm16",
            "input_audio_transcription": None,
            "client_secret": None,
            "include": None,
            "model": model,
            "modalities": ["text", "audio"],
            "instructions": DEFAULT_INSTRUCTIONS,
            "voice": "alloy",
            "output_audio_format": "pcm16",
            "tool_choice": "auto",
            "temperature": 0.8,
            "max_response_output_tokens": "inf",
            "tools": [],
        }
    pcm = {"type": "audio/pcm", "rate": 24000}
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": dict(pcm),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {**_server_vad(), "idle_timeout_ms": None},
            },
            "output": {"format": dict(pcm), "voice": "alloy", "speed": 1.0},
        },
        "include": None,
    }


def modalities_of(session: dict[str, Any], dialect: Dialect) -> list[str]:
    key = "modalities" if dialect == "beta" else "output_modalities"
    value = session.get(key)
    return list(value) if isinstance(value, list) else ["text"]


def voice_of(session: dict[str, Any], dialect: Dialect) -> str:
    if dialect == "beta":
        return str(session.get("voice") or "alloy")
    return str(session.get("audio", {}).get("output", {}).get("voice") or "alloy")


def audio_format(session: dict[str, Any], dialect: Dialect, direction: str) -> str:
    """The beta-style name (``pcm16``, ``g711_ulaw``…) of the input or output audio format."""
    if dialect == "beta":
        return str(session.get(f"{direction}_audio_format") or "pcm16")
    fmt = session.get("audio", {}).get(direction, {}).get("format") or {}
    return _GA_FORMATS.get(fmt.get("type", "audio/pcm"), "pcm16")


def turn_detection_of(session: dict[str, Any], dialect: Dialect) -> dict[str, Any] | None:
    if dialect == "beta":
        td = session.get("turn_detection")
    else:
        td = session.get("audio", {}).get("input", {}).get("turn_detection")
    return td if isinstance(td, dict) else None


def _unknown(path: str) -> Refusal:
    return Refusal("unknown_parameter", f"Unknown parameter: '{path}'.", path)


def _check_turn_detection(td: Any, path: str) -> Refusal | None:
    if td is None:
        return None
    if not isinstance(td, dict):
        return Refusal("invalid_type", f"Invalid type for '{path}': expected an object.", path)
    if td.get("type", "server_vad") not in _TURN_TYPES:
        value = td.get("type")
        return Refusal(
            "invalid_value",
            f"Invalid value: '{value}'. Supported values are: 'server_vad' and 'semantic_vad'.",
            f"{path}.type",
        )
    threshold = td.get("threshold")
    if threshold is not None and (
        not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0
    ):
        return Refusal(
            "invalid_value",
            f"Invalid '{path}.threshold': expected a number between 0 and 1.",
            f"{path}.threshold",
        )
    return None


def _merge_turn(old: Any, new: Any) -> Any:
    if new is None:
        return None
    merged = {**_server_vad(), **(old if isinstance(old, dict) else {}), **new}
    if new.get("type") == "semantic_vad":
        merged = {
            "type": "semantic_vad",
            "eagerness": "auto",
            "create_response": True,
            "interrupt_response": True,
            **new,
        }
    return merged


def _check_beta(
    update: dict[str, Any], current: dict[str, Any], audio_sent: bool
) -> Refusal | None:
    for key in update:
        if key not in _BETA_KEYS:
            return _unknown(f"session.{key}")
    mods = update.get("modalities")
    if mods is not None:
        if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
            return Refusal(
                "invalid_type", "Invalid type for 'session.modalities'.", "session.modalities"
            )
        if sorted(mods) not in (["text"], ["audio", "text"]):
            return Refusal(
                "invalid_value",
                f"Invalid modalities: {mods}. Supported combinations are: ['text'] and "
                "['audio', 'text'].",
                "session.modalities",
            )
    for key in ("input_audio_format", "output_audio_format"):
        if key in update and update[key] not in _BETA_FORMATS:
            return Refusal(
                "invalid_value",
                f"Invalid value: '{update[key]}'. Supported values are: 'pcm16', 'g711_ulaw', "
                "and 'g711_alaw'.",
                f"session.{key}",
            )
    temperature = update.get("temperature")
    if temperature is not None:
        if not isinstance(temperature, int | float):
            return Refusal(
                "invalid_type", "Invalid type for 'session.temperature'.", "session.temperature"
            )
        if temperature < 0.6:
            return Refusal(
                "decimal_below_min_value",
                f"Invalid 'session.temperature': decimal below minimum value. Expected a value "
                f">= 0.6, but got {temperature} instead.",
                "session.temperature",
            )
        if temperature > 1.2:
            return Refusal(
                "decimal_above_max_value",
                f"Invalid 'session.temperature': decimal above maximum value. Expected a value "
                f"<= 1.2, but got {temperature} instead.",
                "session.temperature",
            )
    if "voice" in update and audio_sent and update["voice"] != current.get("voice"):
        return Refusal(
            "cannot_update_voice",
            "Cannot update a conversation's voice if assistant audio is present.",
            "session.voice",
        )
    return _check_turn_detection(update.get("turn_detection"), "session.turn_detection")


def _check_format(fmt: Any, path: str) -> Refusal | None:
    if not isinstance(fmt, dict):
        return Refusal(
            "invalid_type",
            f"Invalid type for '{path}': expected an object, but got a {type(fmt).__name__} "
            "instead.",
            path,
        )
    if fmt.get("type") not in _GA_FORMATS:
        return Refusal(
            "invalid_value",
            f"Invalid value: '{fmt.get('type')}'. Supported values are: 'audio/pcm', "
            "'audio/pcmu', and 'audio/pcma'.",
            f"{path}.type",
        )
    if fmt.get("type") == "audio/pcm" and fmt.get("rate", 24000) != 24000:
        return Refusal(
            "invalid_value",
            f"Invalid value: {fmt.get('rate')}. Supported values are: 24000.",
            f"{path}.rate",
        )
    return None


def _check_ga(update: dict[str, Any], current: dict[str, Any], audio_sent: bool) -> Refusal | None:
    if "type" not in update:
        return Refusal(
            "missing_required_parameter",
            "Missing required parameter: 'session.type'.",
            "session.type",
        )
    if update["type"] not in ("realtime", "transcription"):
        return Refusal(
            "invalid_value",
            f"Invalid value: '{update['type']}'. Supported values are: 'realtime' and "
            "'transcription'.",
            "session.type",
        )
    for key in update:
        if key not in _GA_KEYS:
            return _unknown(f"session.{key}")
    mods = update.get("output_modalities")
    if mods is not None and (not isinstance(mods, list) or mods not in (["text"], ["audio"])):
        return Refusal(
            "invalid_value",
            f"Invalid 'session.output_modalities': {mods}. Supported values are: ['text'] and "
            "['audio'] (it is not possible to request both).",
            "session.output_modalities",
        )
    audio = update.get("audio")
    if audio is None:
        return None
    if not isinstance(audio, dict):
        return Refusal("invalid_type", "Invalid type for 'session.audio'.", "session.audio")
    for key in audio:
        if key not in ("input", "output"):
            return _unknown(f"session.audio.{key}")
    for direction, allowed in (("input", _GA_AUDIO_INPUT_KEYS), ("output", _GA_AUDIO_OUTPUT_KEYS)):
        part = audio.get(direction)
        if part is None:
            continue
        if not isinstance(part, dict):
            return Refusal(
                "invalid_type",
                f"Invalid type for 'session.audio.{direction}'.",
                f"session.audio.{direction}",
            )
        for key in part:
            if key not in allowed:
                return _unknown(f"session.audio.{direction}.{key}")
        if "format" in part:
            refusal = _check_format(part["format"], f"session.audio.{direction}.format")
            if refusal:
                return refusal
    output = audio.get("output") or {}
    old_voice = current.get("audio", {}).get("output", {}).get("voice")
    if "voice" in output and audio_sent and output["voice"] != old_voice:
        return Refusal(
            "cannot_update_voice",
            "Cannot update a conversation's voice if assistant audio is present.",
            "session.audio.output.voice",
        )
    td = (audio.get("input") or {}).get("turn_detection")
    return _check_turn_detection(td, "session.audio.input.turn_detection")


def apply_update(
    current: dict[str, Any], update: Any, dialect: Dialect, *, audio_sent: bool = False
) -> dict[str, Any] | Refusal:
    """The effective session after ``session.update{session: update}``, or why it is refused.

    ``audio_sent`` tells whether assistant audio exists already (the voice is then fixed).
    """
    if not isinstance(update, dict):
        return Refusal(
            "missing_required_parameter" if update is None else "invalid_type",
            "Missing required parameter: 'session'."
            if update is None
            else "Invalid type for 'session': expected an object.",
            "session",
        )
    check = _check_beta if dialect == "beta" else _check_ga
    refusal = check(update, current, audio_sent)
    if refusal is not None:
        return refusal
    new = copy.deepcopy(current)
    for key, value in update.items():
        if key == "audio":
            for direction in ("input", "output"):
                part = value.get(direction)
                if part is None:
                    continue
                target = new["audio"][direction]
                for sub, subvalue in part.items():
                    if sub == "turn_detection":
                        target[sub] = _merge_turn(target.get(sub), subvalue)
                    else:
                        target[sub] = copy.deepcopy(subvalue)
        elif key == "turn_detection":
            new[key] = _merge_turn(new.get(key), value)
        else:
            new[key] = copy.deepcopy(value)
    return new
