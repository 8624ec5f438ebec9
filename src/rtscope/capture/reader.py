"""Streaming reader of capture files (format v1).

Reads, one line at a time and never the whole file into memory:

- captures written by rtscope (a header line, then ``open``/``msg``/``close``/… records);
- the same, gzip-compressed (detected by content, whatever the file is called);
- captures without a header line (concatenated or hand-made excerpts);
- bare-event JSONL: one Realtime event object per line, no ``kind``. The direction follows from
  the event type, the time from an optional numeric ``t`` (or ``from`` if the line gives it).

A truncated last line (a recorder killed mid-write), or NUL bytes after the last line (a capture
written through a memory map that was never closed), is reported in
:attr:`CaptureReader.problems` and everything before it is kept. Anything else unreadable raises
:class:`CaptureError` naming the file, the line and the problem; a newer format version raises
:class:`CaptureVersionError`.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from .._version import __version__
from ..errors import CaptureError, CaptureVersionError
from ..protocol.events import direction_of
from .audiospan import b64_decoded_len, parse_counting_audio
from .codec import FORMAT, VERSION, Record

__all__ = ["CaptureReader", "read_capture"]

_KINDS_REQUIRING_CONN = frozenset({"open", "msg", "close"})
_FROMS = ("client", "server")
BARE_CONN = "0"
#: The longest line read. A 16 MiB WebSocket message is ~22 MiB of base64; a longer "line" is
#: not a capture (a sparse or zero-filled file has no newline at all), and reading on would put
#: all of it in memory.
MAX_LINE = 64 * 2**20
#: Read buffer. ``open()``'s default (8 KiB) is smaller than a line of base64 audio: with it,
#: line iteration over a voice capture spends more time refilling the buffer (0.19 s per 200 MB)
#: than orjson spends parsing; with 1 MiB it is 0.03 s (bench/analyze_speed.py).
READ_BUFFER = 2**20


class CaptureReader:
    """Iterate over the records of one capture source.

    Args:
        source: a path, or a binary file object (``sys.stdin.buffer``).
        name: how to call the source in messages (defaults to the path).
        count_audio: give the base64 audio of audio events (appends, audio deltas) as
            ``{"bytes": N}``, as a capture recorded with ``--audio drop`` does, without parsing
            it (:mod:`.audiospan`). For analysis: no rule reads the samples.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        name: str | None = None,
        *,
        count_audio: bool = False,
    ):
        self._source = source
        self._count_audio = count_audio
        if isinstance(source, str | os.PathLike):
            self.name = name or str(source)
        else:
            self.name = name or str(getattr(source, "name", "<stream>"))
        self.header: Record | None = None
        #: Non-fatal problems (a truncated last line), as errors that were not raised.
        self.problems: list[CaptureError] = []
        #: Line count read so far (for progress and messages).
        self.lines = 0
        self.bare_events = False

    def error(self, problem: str, line: int | None = None, hint: str | None = None) -> CaptureError:
        return CaptureError(self.name, problem, line=line, hint=hint)

    def _open(self) -> tuple[IO[bytes], list[IO[bytes]]]:
        """The stream to read lines from, and what to close afterwards (never the caller's)."""
        owned: list[IO[bytes]] = []
        if isinstance(self._source, str | os.PathLike):
            path = Path(self._source)
            if path.is_dir():
                raise self.error("is a directory", hint="pass the capture files inside it")
            try:
                raw: IO[bytes] = open(path, "rb", buffering=READ_BUFFER)  # noqa: SIM115
                owned.append(raw)
            except FileNotFoundError:
                raise self.error("no such file") from None
            except OSError as exc:
                raise self.error(f"cannot open: {exc.strerror}") from None
        else:
            raw = self._source
        buffered: Any = raw if hasattr(raw, "peek") else io.BufferedReader(raw, READ_BUFFER)
        if buffered.peek(2)[:2] == b"\x1f\x8b":
            unzipped: IO[bytes] = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
            owned.insert(0, unzipped)
            return unzipped, owned
        return buffered, owned

    def __iter__(self) -> Iterator[Record]:
        stream, owned = self._open()
        try:
            yield from self._records(stream)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise self.error(
                f"compressed data is damaged ({exc})",
                line=self.lines + 1,
                hint="the .gz file is truncated or corrupt",
            ) from None
        finally:
            for f in owned:
                f.close()

    def _cut_tail(self, line: bytes, lineno: int) -> CaptureError:
        """The problem of a last line without its newline: cut, or NUL bytes after the lines
        (a capture written through a memory map and not closed: ``rtscope record --mapped``)."""
        text = line.rstrip(b"\x00")
        if len(text) == len(line):
            return self.error(
                "last line is truncated and was skipped",
                line=lineno,
                hint="the writer stopped mid-line; everything before it was read",
            )
        nul = f"{len(line) - len(text):,} NUL bytes"
        return self.error(
            f"the capture was not closed: {nul}{' after a cut line' if text else ''} at its end"
            " were skipped",
            line=lineno,
            hint="written with 'rtscope record --mapped' and stopped before closing it (or still "
            "being written); everything before was read",
        )

    def _records(self, stream: IO[bytes]) -> Iterator[Record]:
        bare_seq = 0
        lineno = 0
        loads = _loads_counting_audio if self._count_audio else orjson.loads
        readline = stream.readline
        while line := readline(MAX_LINE + 1):
            lineno += 1
            self.lines = lineno
            if lineno == 1 and _looks_binary(line):
                raise self.error("binary data, not a capture", line=1, hint="expected JSON lines")
            if len(line) > MAX_LINE:
                raise self.error(
                    f"line longer than {MAX_LINE >> 20} MiB",
                    line=lineno,
                    hint="not a capture line (zero-filled or damaged file?)",
                )
            if line.isspace():  # (not line.strip(), which copies the line)
                continue
            try:
                obj = loads(line)
            except orjson.JSONDecodeError as exc:
                if not line.endswith(b"\n"):
                    self.problems.append(self._cut_tail(line, lineno))
                    return
                raise self.error(
                    f"not valid JSON ({_short(str(exc))})",
                    line=lineno,
                    hint="expected one JSON object per line",
                ) from None
            if not isinstance(obj, dict):
                raise self.error(
                    f"expected a JSON object, found {type(obj).__name__}",
                    line=lineno,
                    hint="each line of a capture is one JSON object",
                )
            kind = obj.get("kind")
            if kind is None:
                etype = obj.get("type")
                if not isinstance(etype, str):
                    raise self.error(
                        "neither a capture record (no 'kind') nor a Realtime event (no 'type')",
                        line=lineno,
                    )
                self.bare_events = True
                yield _bare_event_record(obj, bare_seq)
                bare_seq += 1
                continue
            if not isinstance(kind, str):
                raise self.error(
                    f"'kind' must be a string, found {type(kind).__name__}", line=lineno
                )
            if kind == "header":
                self._check_header(obj, lineno)
                if self.header is None:
                    self.header = obj
                continue
            if kind == "msg":
                if (
                    type(obj.get("conn")) is not str
                    or type(obj.get("seq")) is not int
                    or obj.get("from") not in _FROMS
                    or ("event" not in obj and "text" not in obj and "data_b64" not in obj)
                ):
                    self._check_record(obj, kind, lineno)  # says what is wrong, if anything
            elif kind in _KINDS_REQUIRING_CONN:
                self._check_record(obj, kind, lineno)
            yield obj

    def _check_header(self, obj: Record, lineno: int) -> None:
        fmt = obj.get("format")
        if fmt != FORMAT:
            raise self.error(f"header names format {fmt!r}, not {FORMAT!r}", line=lineno)
        version = obj.get("version")
        if not isinstance(version, int):
            raise self.error(f"header has no integer version ({version!r})", line=lineno)
        if version > VERSION:
            tool = obj.get("tool") or "a newer rtscope"
            raise CaptureVersionError(
                self.name,
                f"capture format version {version} (written by {tool}); "
                f"rtscope {__version__} reads version {VERSION} and older",
                line=lineno,
                hint=f"upgrade rtscope to a release that reads format version {version}: "
                "pip install -U rtscope",
            )

    def _check_record(self, obj: Record, kind: str, lineno: int) -> None:
        if not isinstance(obj.get("conn"), str):
            raise self.error(f"'{kind}' record without a string 'conn'", line=lineno)
        if kind == "msg":
            if obj.get("from") not in ("client", "server"):
                raise self.error(
                    "'msg' record whose 'from' is not 'client' or 'server'", line=lineno
                )
            if not isinstance(obj.get("seq"), int):
                raise self.error("'msg' record without an integer 'seq'", line=lineno)
            if "event" not in obj and "text" not in obj and "data_b64" not in obj:
                raise self.error(
                    "'msg' record with none of 'event', 'text', 'data_b64'", line=lineno
                )


#: Shorter lines are parsed whole: finding the audio would cost more than it saves.
_COUNT_AUDIO_MIN = 1024


def _loads_counting_audio(line: bytes) -> Any:
    """``orjson.loads(line)``, but a ``msg`` line's base64 audio is counted, not parsed."""
    if len(line) >= _COUNT_AUDIO_MIN:
        parsed = parse_counting_audio(line, ("event",))
        if parsed is not None:
            obj, span = parsed
            span.event[span.field] = {"bytes": b64_decoded_len(line, span.start, span.end)}
            return obj
    return orjson.loads(line)


def _bare_event_record(event: dict[str, Any], seq: int) -> Record:
    t = event.pop("t", None) if isinstance(event.get("t"), int | float) else None
    frm = event.pop("from", None) if event.get("from") in ("client", "server") else None
    return {
        "kind": "msg",
        "conn": BARE_CONN,
        "seq": seq,
        "t": t,
        "from": frm or direction_of(event["type"]),
        "size": None,
        "event": event,
    }


def _looks_binary(line: bytes) -> bool:
    """A first line with a NUL byte or invalid UTF-8 (an image, an archive, audio) is no capture."""
    if b"\x00" in line:
        return True
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_capture(
    source: str | os.PathLike[str] | IO[bytes], name: str | None = None
) -> Iterator[Record]:
    """Shorthand for ``iter(CaptureReader(source, name))``."""
    return iter(CaptureReader(source, name))
