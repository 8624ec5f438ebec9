"""Parse a Realtime audio event without parsing its audio.

Most bytes of a voice session are base64 audio (``input_audio_buffer.append``'s ``audio``,
``response.output_audio.delta``'s ``delta``). No rule reads the samples, only how many there are,
and the recorder embeds the payload verbatim. So the recorder's encoder and ``rtscope analyze``
locate the audio string in the raw bytes, parse everything around it with orjson, and keep only the
audio's length (:func:`parse_counting_audio`).

The result is exact, or ``None`` (the caller then parses normally): the audio text is found by its
key (``"audio":"``, or ``"audio": "`` as ``json.dumps`` and so the openai Python SDK write it),
must be the only occurrence of that key, long (≥ :data:`MIN_AUDIO` characters) and nothing but
standard base64 characters, and the parsed event must carry the placeholder in the field its type
names in :data:`rtscope.protocol.events.AUDIO_FIELDS`. Standard base64 has no JSON escape, no
control character (the payload, embedded verbatim, stays valid JSON) and none of ``-``, ``_`` and
space, one of which every secret pattern needs (:mod:`rtscope.capture.redact`): scanning the bytes
around the audio for secrets is enough.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..protocol.events import AUDIO_FIELDS

__all__ = [
    "KEY_WINDOW",
    "MIN_AUDIO",
    "PLACEHOLDER",
    "AudioSpan",
    "b64_decoded_len",
    "parse_counting_audio",
]

#: Shorter audio strings are parsed normally (the saving would not pay for the search).
MIN_AUDIO = 256

#: The audio key is looked for in this many first bytes (a capture line's own fields included).
KEY_WINDOW = 1024

#: What the audio string is replaced by before parsing: no real audio field holds it.
PLACEHOLDER = "\x00rtscope:audio"
_PLACEHOLDER_JSON = b'"\\u0000rtscope:audio"'

_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

#: (key, key and quote, the same as ``json.dumps`` writes it, field). The openai Python SDK sends
#: its client events with ``json.dumps`` (``"audio": "…"``); servers send compact JSON.
_KEYS = (
    (b'"audio":', b'"audio":"', b'"audio": "', "audio"),
    (b'"delta":', b'"delta":"', b'"delta": "', "delta"),
)


class AudioSpan:
    """Where the audio text sits in the parsed bytes, and the event it belongs to."""

    __slots__ = ("end", "event", "field", "start")

    def __init__(self, event: dict[str, Any], field: str, start: int, end: int) -> None:
        #: the event, with ``event[field] == PLACEHOLDER``
        self.event = event
        self.field = field
        #: the base64 text is ``data[start:end]``
        self.start = start
        self.end = end


def b64_decoded_len(data: bytes, start: int, end: int) -> int:
    """Decoded byte count of the base64 text ``data[start:end]`` (padding subtracted)."""
    n = end - start
    pad = 0
    if n and data[end - 1] == 0x3D:  # "="
        pad = 2 if n > 1 and data[end - 2] == 0x3D else 1
    return max(0, n * 3 // 4 - pad)


def _find_key(data: bytes) -> tuple[int, bytes, bytes, str] | None:
    """(where its string starts, key + quote, its ``json.dumps`` spelling, field) of the first
    audio key followed by a string.

    One scan per field for both spellings: ``"audio":`` is searched, then the quote (or space and
    quote) after it is checked; an ``"audio":`` not followed by a string (``"audio":{``) is skipped.
    Only the first :data:`KEY_WINDOW` bytes are searched: the key comes before its audio, after
    a few short fields, and a key found later would only be a slower way to a full parse (a
    4 KB miss costs ~2 µs, most of this function's time for an audio delta).
    """
    window = min(len(data), KEY_WINDOW)
    for prefix, compact, spaced, field in _KEYS:
        at = data.find(prefix, 0, window)
        while at >= 0:
            after = at + len(prefix)
            if data.startswith(b'"', after):
                return after + 1, compact, spaced, field
            if data.startswith(b' "', after):
                return after + 2, compact, spaced, field
            at = data.find(prefix, after, window)
    return None


def parse_counting_audio(data: bytes, path: tuple[str, ...] = ()) -> tuple[Any, AudioSpan] | None:
    """``orjson.loads(data)`` with the audio of an audio event left unparsed, or ``None``.

    ``path`` leads from the parsed value to the event: ``()`` for a raw WebSocket payload,
    ``("event",)`` for a capture ``msg`` line. On success the event's audio field holds
    :data:`PLACEHOLDER`; ``None`` means ``data`` is not such an event (or not one this fast path
    can prove exact) and must be parsed the ordinary way.
    """
    found = _find_key(data)
    if found is None:
        return None
    start, compact, spaced, field = found
    end = data.find(b'"', start)
    if end - start < MIN_AUDIO:
        return None
    if data[start:end].translate(None, _BASE64):
        # Not plain base64: a JSON escape, a control character (invalid JSON that must not be
        # embedded verbatim), base64url or a space (a secret could hide there): parse it whole.
        return None
    if data.find(compact, end) >= 0 or data.find(spaced, end) >= 0:
        return None  # a second occurrence: which one the event holds is not provable here
    try:
        value = orjson.loads(b"".join((data[: start - 1], _PLACEHOLDER_JSON, data[end + 1 :])))
    except orjson.JSONDecodeError:
        return None
    event = value
    for step in path:
        if not isinstance(event, dict):
            return None
        event = event.get(step)
    if not isinstance(event, dict) or event.get(field) != PLACEHOLDER:
        return None
    etype = event.get("type")
    fields = AUDIO_FIELDS.get(etype) if isinstance(etype, str) else None
    if not fields or field not in fields:
        return None
    return value, AudioSpan(event, field, start, end)
