"""Audio of a capture as WAV files: the user's input stream and each assistant audio item.

:func:`collect_tracks` (pure) walks the records once and gathers, per connection:

- the input stream: every ``input_audio_buffer.append`` audio, concatenated in order (a new
  track starts if the session's input format changes midway);
- one output track per assistant item: ``response.audio.delta`` (beta) and
  ``response.output_audio.delta`` (GA) grouped by ``item_id``;
- one track per client ``conversation.item.create`` that carries ``input_audio`` content parts
  (audio sent as a conversation item instead of through the input buffer), in the input format.

Each track's format is the session's *effective* one (``session.created`` overlaid by each
``session.updated`` from the server; a ``response.created`` that echoes an output format wins for
its items). Without any session event the API default (pcm16 24 kHz) is assumed and said so.
Captures recorded with ``--audio drop`` hold ``{"bytes": N, "sha256": …}`` instead of audio:
those bytes are counted and reported, never invented.

:func:`export_wav` writes each track as 16-bit PCM WAV (G.711 decoded) with :mod:`wave`, files
0600 in a 0700 directory (voices are personal data).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..capture.codec import Record
from ..capture.writer import ensure_private_dir
from .audio import (
    PCM16,
    AudioFormat,
    response_output_format,
    session_formats,
    to_pcm16,
    wav_bytes,
)

__all__ = ["AudioTrack", "WavExport", "WrittenWav", "collect_tracks", "export_wav", "write_wav"]

_OUTPUT_DELTAS = ("response.audio.delta", "response.output_audio.delta")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class AudioTrack:
    """One stream of audio bytes, still in its wire format."""

    conn: str
    kind: Literal["input", "output", "item"]
    fmt: AudioFormat
    fmt_known: bool
    item_id: str | None = None
    response_id: str | None = None
    part: int = 1
    chunks: list[bytes] = field(default_factory=list)
    nbytes: int = 0
    dropped_bytes: int = 0
    dropped_chunks: int = 0
    bad_chunks: int = 0
    first_seq: int | None = None

    @property
    def filename(self) -> str:
        conn = _SAFE.sub("-", self.conn) or "conn"
        if self.kind == "input":
            suffix = "" if self.part == 1 else f"-{self.part}"
            return f"{conn}_input{suffix}.wav"
        fallback = f"item-{self.part}" if self.kind == "item" else f"response-{self.part}"
        item = _SAFE.sub("-", self.item_id or fallback)
        return f"{conn}_{item}.wav"

    @property
    def seconds(self) -> float:
        return self.fmt.seconds(self.nbytes)

    def add(self, value: Any, seq: int | None) -> None:
        if self.first_seq is None:
            self.first_seq = seq
        if isinstance(value, dict) and isinstance(value.get("bytes"), int):
            self.dropped_bytes += value["bytes"]
            self.dropped_chunks += 1
            return
        if not isinstance(value, str):
            self.bad_chunks += 1
            return
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.bad_chunks += 1
            return
        self.chunks.append(data)
        self.nbytes += len(data)


@dataclass
class _ConnState:
    in_fmt: AudioFormat | None = None
    out_fmt: AudioFormat | None = None
    input_track: AudioTrack | None = None
    input_parts: int = 0
    response_fmt: dict[str, AudioFormat] = field(default_factory=dict)
    outputs: dict[str, AudioTrack] = field(default_factory=dict)
    items: int = 0


def collect_tracks(records: Iterable[Record]) -> list[AudioTrack]:
    """Every audio track of the capture, in order of first appearance."""
    conns: dict[str, _ConnState] = {}
    tracks: list[AudioTrack] = []
    for record in records:
        if record.get("kind") != "msg":
            continue
        event = record.get("event")
        if not isinstance(event, dict):
            continue
        etype = event.get("type")
        conn = str(record.get("conn"))
        state = conns.setdefault(conn, _ConnState())
        seq = record.get("seq") if isinstance(record.get("seq"), int) else None
        from_server = record.get("from") == "server"
        if from_server and etype in ("session.created", "session.updated"):
            in_fmt, out_fmt = session_formats(event.get("session"))
            state.in_fmt = in_fmt or state.in_fmt
            state.out_fmt = out_fmt or state.out_fmt
        elif from_server and etype == "response.created":
            response = event.get("response")
            fmt = response_output_format(response)
            if (
                fmt is not None
                and isinstance(response, dict)
                and isinstance(response.get("id"), str)
            ):
                state.response_fmt[response["id"]] = fmt
        elif etype == "input_audio_buffer.append" and "audio" in event:
            fmt = state.in_fmt or PCM16
            track = state.input_track
            if track is None or track.fmt != fmt:
                state.input_parts += 1
                track = AudioTrack(
                    conn, "input", fmt, state.in_fmt is not None, part=state.input_parts
                )
                state.input_track = track
                tracks.append(track)
            track.add(event["audio"], seq)
        elif etype in _OUTPUT_DELTAS and "delta" in event:
            item_id = event.get("item_id")
            response_id = event.get("response_id")
            key = item_id if isinstance(item_id, str) else f"?{response_id}"
            track = state.outputs.get(key)
            if track is None:
                fmt = None
                if isinstance(response_id, str):
                    fmt = state.response_fmt.get(response_id)
                fmt = fmt or state.out_fmt
                track = AudioTrack(
                    conn,
                    "output",
                    fmt or PCM16,
                    fmt is not None,
                    item_id=item_id if isinstance(item_id, str) else None,
                    response_id=response_id if isinstance(response_id, str) else None,
                    part=len(state.outputs) + 1,
                )
                state.outputs[key] = track
                tracks.append(track)
            track.add(event["delta"], seq)
        elif etype == "conversation.item.create" and not from_server:
            item_track = _item_track(conn, state, event.get("item"), seq)
            if item_track is not None:
                tracks.append(item_track)
    return tracks


def _item_track(conn: str, state: _ConnState, item: Any, seq: int | None) -> AudioTrack | None:
    """The ``input_audio`` parts of a created item, concatenated, or ``None`` if it has none."""
    if not isinstance(item, dict) or not isinstance(item.get("content"), list):
        return None
    parts = [
        part["audio"]
        for part in item["content"]
        if isinstance(part, dict) and part.get("type") == "input_audio" and "audio" in part
    ]
    if not parts:
        return None
    state.items += 1
    item_id = item.get("id")
    track = AudioTrack(
        conn,
        "item",
        state.in_fmt or PCM16,
        state.in_fmt is not None,
        item_id=item_id if isinstance(item_id, str) else None,
        part=state.items,
    )
    for audio in parts:
        track.add(audio, seq)
    return track


@dataclass
class WrittenWav:
    path: Path
    seconds: float
    size: int
    track: AudioTrack


@dataclass
class WavExport:
    written: list[WrittenWav] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_wav(path: str | os.PathLike[str], pcm: bytes, rate: int) -> int:
    """Write mono 16-bit PCM as a WAV file (mode 0600); return the file size."""
    data = wav_bytes(pcm, rate)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return len(data)


def export_wav(records: Iterable[Record], out_dir: str | os.PathLike[str]) -> WavExport:
    """Write every track of ``records`` under ``out_dir``; notes say what could not be written."""
    tracks = collect_tracks(records)
    result = WavExport()
    if not tracks:
        result.notes.append(
            "no audio in this capture (no input_audio_buffer.append, no audio deltas)"
        )
        return result
    directory = ensure_private_dir(out_dir)
    assumed = [t for t in tracks if not t.fmt_known and t.nbytes]
    if assumed:
        result.notes.append(
            f"{len(assumed)} track(s) have no session.created/updated declaring their format: "
            "assumed pcm16 24 kHz (the API default)"
        )
    for track in tracks:
        label = f"{track.conn} {track.kind}" + (f" {track.item_id}" if track.item_id else "")
        if track.dropped_bytes and not track.nbytes:
            result.notes.append(
                f"{label}: audio was dropped when recording (--audio drop): "
                f"{track.dropped_bytes} bytes ({track.fmt.seconds(track.dropped_bytes):.2f} s) "
                "are not in the capture; record with --audio keep to export them"
            )
            continue
        if track.dropped_bytes:
            result.notes.append(
                f"{label}: {track.dropped_chunks} chunk(s) ({track.dropped_bytes} bytes) were "
                "dropped when recording; the file holds the rest"
            )
        if track.bad_chunks:
            result.notes.append(f"{label}: {track.bad_chunks} chunk(s) were not base64 and skipped")
        if not track.nbytes:
            continue
        pcm = to_pcm16(b"".join(track.chunks), track.fmt)
        path = directory / track.filename
        size = write_wav(path, pcm, track.fmt.rate)
        result.written.append(WrittenWav(path, track.seconds, size, track))
    return result
