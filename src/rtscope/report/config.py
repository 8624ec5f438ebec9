"""Effective session configuration as it evolves, and what each ``session.updated`` changed.

The effective config is ``session.created`` overlaid by every later ``session.updated`` (each
carries the whole effective session, beta and GA alike), never the client's ``session.update``
alone, which the server may refuse. Both dialects are read: beta flat fields (``modalities``,
``input_audio_format``, ``voice``, ``turn_detection``) and GA nested ones (``output_modalities``,
``audio.input.format``, ``audio.output.voice``, ``audio.input.turn_detection``).

Pure functions over event dicts; used by the terminal timeline and the HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "BYTES_PER_MS",
    "Change",
    "SessionConfig",
    "audio_format",
    "diff",
    "flatten",
    "modalities",
]

#: Bytes of audio per millisecond, by beta format name (GA formats are mapped to these names).
BYTES_PER_MS: dict[str, int] = {"pcm16": 48, "g711_ulaw": 8, "g711_alaw": 8}

_GA_FORMATS = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}

#: Fields that change on every update and say nothing about behaviour.
_NOISE = frozenset({"expires_at", "event_id"})


def audio_format(session: dict[str, Any] | None, direction: str) -> str:
    """``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"`` for ``direction`` ``"input"``/``"output"``.

    Defaults to pcm16 (the API's default) when the session does not say.
    """
    if not session:
        return "pcm16"
    beta = session.get(f"{direction}_audio_format")
    if isinstance(beta, str) and beta in BYTES_PER_MS:
        return beta
    audio = session.get("audio")
    if isinstance(audio, dict):
        side = audio.get(direction)
        if isinstance(side, dict):
            fmt = side.get("format")
            if isinstance(fmt, dict):
                fmt = fmt.get("type")
            if isinstance(fmt, str):
                return _GA_FORMATS.get(fmt, fmt if fmt in BYTES_PER_MS else "pcm16")
    return "pcm16"


def modalities(obj: dict[str, Any] | None) -> list[str] | None:
    """``output_modalities`` (GA) or ``modalities`` (beta) of a session or response object."""
    if not obj:
        return None
    for key in ("output_modalities", "modalities"):
        value = obj.get(key)
        if isinstance(value, list):
            return [str(v) for v in value]
    return None


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """``{"audio.input.format.type": "audio/pcm", …}``; lists are kept whole as leaf values."""
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, path))
        return out
    return {prefix: obj} if prefix else {}


@dataclass(frozen=True, slots=True)
class Change:
    """One configuration field that changed; ``old``/``new`` are ``MISSING`` when absent."""

    path: str
    old: Any
    new: Any


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


MISSING: Any = _Missing()


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """Fields of ``new`` that differ from ``old``, as dotted paths (noise fields skipped).

    Objects present on both sides are compared field by field; anything else (a value that
    became an object, a list) is one change with the whole old and new values.
    """
    changes: list[Change] = []
    _diff(old or {}, new, "", changes)
    return changes


def _diff(a: Any, b: Any, path: str, out: list[Change]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key in _NOISE:
                continue
            sub = f"{path}.{key}" if path else str(key)
            _diff(a.get(key, MISSING), b.get(key, MISSING), sub, out)
    elif a != b:
        out.append(Change(path, a, b))


class SessionConfig:
    """The effective session config of one connection, fed with server events in order."""

    def __init__(self) -> None:
        self.session: dict[str, Any] | None = None

    def apply(self, event: dict[str, Any]) -> list[Change] | None:
        """Apply a ``session.created``/``session.updated`` (or transcription variant).

        Returns the changes it made, or ``None`` when the event is not a session event.
        """
        etype = event.get("type")
        if etype not in (
            "session.created",
            "session.updated",
            "transcription_session.created",
            "transcription_session.updated",
        ):
            return None
        session = event.get("session")
        if not isinstance(session, dict):
            return []
        changes = diff(self.session, session)
        self.session = session
        return changes

    def format(self, direction: str) -> str:
        return audio_format(self.session, direction)

    def bytes_per_ms(self, direction: str) -> int:
        return BYTES_PER_MS[self.format(direction)]
