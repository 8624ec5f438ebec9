"""Thin I/O shells around the importers, with the interface of ``CaptureReader``.

Each reader iterates capture records (``dict``), and has ``name``, ``header`` (a header record
saying what the records were imported from) and ``problems`` (non-fatal
:class:`~rtscope.errors.CaptureError`\\ s, each naming its line or entry). Unusable input raises
:class:`~rtscope.errors.CaptureError`; nothing else escapes.
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

from ...errors import CaptureError
from ..codec import Record, header_record
from ..redact import might_hold_secret, redact_event
from .har import har_records, is_har
from .pasted import direction_for, scan_text

__all__ = ["FlowSource", "HarSource", "ImportedSource", "PastedSource", "read_input"]

PASTED_CONN = "0"

#: HAR files and pasted logs are parsed whole; anything larger is refused before it is read.
MAX_WHOLE = 512 * 2**20


def _too_large(name: str) -> CaptureError:
    return CaptureError(
        name,
        f"too large for a HAR file or a pasted log (over {MAX_WHOLE >> 20} MiB)",
        hint="record the session as a capture instead, or split the file",
    )


def read_input(source: str | os.PathLike[str] | IO[bytes], name: str) -> bytes:
    """All bytes of ``source`` (gunzipped when it is gzip), or a one-line CaptureError.

    At most :data:`MAX_WHOLE` bytes (before and after decompression): these inputs are parsed
    whole, so a 2 GB file is refused instead of being loaded into memory.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            raise CaptureError(name, "is a directory", hint="pass the files inside it")
        try:
            if path.stat().st_size > MAX_WHOLE:
                raise _too_large(name)
            data = path.read_bytes()
        except FileNotFoundError:
            raise CaptureError(name, "no such file") from None
        except OSError as exc:
            raise CaptureError(name, f"cannot open: {exc.strerror}") from None
    else:
        data = source.read(MAX_WHOLE + 1)
    if len(data) > MAX_WHOLE:
        raise _too_large(name)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name)
    return data


def _gunzip(data: bytes, name: str) -> bytes:
    """Every gzip member of ``data``, at most :data:`MAX_WHOLE` bytes of output."""
    out = bytearray()
    rest = data
    while rest:
        unzip = zlib.decompressobj(wbits=31)
        try:
            out += unzip.decompress(rest, MAX_WHOLE + 1 - len(out))
        except zlib.error as exc:
            raise CaptureError(
                name, f"compressed data is damaged ({exc})", hint="the .gz file is truncated"
            ) from None
        if len(out) > MAX_WHOLE:
            raise _too_large(name)
        if not unzip.eof:
            raise CaptureError(
                name,
                "compressed data is damaged (it ends before the end-of-stream marker)",
                hint="the .gz file is truncated",
            )
        rest = unzip.unused_data
    return bytes(out)


class ImportedSource:
    """Base of the importers' readers: records come from :meth:`_records`."""

    kind = "import"

    def __init__(self, source: str | os.PathLike[str] | IO[bytes], name: str | None = None):
        self._source = source
        if isinstance(source, str | os.PathLike):
            self.name = name or str(source)
        else:
            self.name = name or str(getattr(source, "name", "<stream>"))
        self.header: Record | None = header_record(imported_from=self.kind, source=self.name)
        self.problems: list[CaptureError] = []
        self.lines = 0

    def error(self, problem: str, line: int | None = None, hint: str | None = None) -> CaptureError:
        return CaptureError(self.name, problem, line=line, hint=hint)

    def _note(self, problem: str, hint: str | None = None, line: int | None = None) -> None:
        self.problems.append(self.error(problem, line=line, hint=hint))

    def __iter__(self) -> Iterator[Record]:
        return self._records()

    def _records(self) -> Iterator[Record]:
        raise NotImplementedError


class HarSource(ImportedSource):
    """A HAR file (Chrome, mitmproxy, HTTP Toolkit, Playwright): one connection per WS entry."""

    kind = "har"

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        name: str | None = None,
        doc: dict[str, Any] | None = None,
    ):
        super().__init__(source, name)
        self._doc = doc

    def _records(self) -> Iterator[Record]:
        doc = self._doc
        if doc is None:
            data = read_input(self._source, self.name)
            try:
                doc = orjson.loads(data.lstrip(b"\xef\xbb\xbf"))
            except orjson.JSONDecodeError as exc:
                line = data[: exc.pos].count(b"\n") + 1
                raise self.error(
                    f"not valid JSON ({exc.msg})", line=line, hint="is the HAR complete?"
                ) from None
            if not is_har(doc):
                raise self.error("not a HAR file (no log.entries)")
        try:
            yield from har_records(doc, lambda text, hint: self._note(text, hint))
        except ValueError as exc:
            raise self.error(
                str(exc), hint="export the HAR with the WebSocket connection in it"
            ) from None


class _FlowTooLarge(Exception):
    pass


class _BoundedReads:
    """The flow file as mitmproxy's reader sees it, refusing any single read over
    :data:`MAX_WHOLE`: a tnetstring's length prefix says how much mitmproxy reads at once, and a
    damaged or hostile prefix must not allocate gigabytes."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > MAX_WHOLE:
            raise _FlowTooLarge
        data: bytes = self._stream.read(n)
        return data

    def peek(self, n: int = 0) -> bytes:
        data: bytes = self._stream.peek(n)
        return data


class FlowSource(ImportedSource):
    """A mitmproxy flow file, read through mitmproxy's own ``FlowReader``."""

    kind = "mitmproxy-flows"

    def _records(self) -> Iterator[Record]:
        from mitmproxy.io import FlowReader

        from .flows import flow_records

        if isinstance(self._source, str | os.PathLike):
            try:
                stream: IO[bytes] = open(self._source, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise self.error(f"cannot open: {exc.strerror}") from None
        else:
            stream = self._source
        opened: list[Any] = [] if stream is self._source else [stream]
        buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
        if buffered.peek(2)[:2] == b"\x1f\x8b":
            opened.append(buffered)  # GzipFile does not close the file it reads
            buffered = io.BufferedReader(gzip.GzipFile(fileobj=buffered, mode="rb"))
        count = 0
        found = 0
        try:
            reader = FlowReader(_BoundedReads(buffered))  # type: ignore[arg-type]
            flows = iter(reader.stream())
            while True:
                try:
                    flow = next(flows)
                except StopIteration:
                    break
                except _FlowTooLarge:
                    raise self.error(
                        f"flow {count + 1} is larger than {MAX_WHOLE >> 20} MiB",
                        hint="the flow file is damaged or not a mitmproxy flow file",
                    ) from None
                except Exception as exc:  # FlowReadException, and whatever odd state raises
                    raise self.error(
                        f"flow {count + 1}: cannot read ({exc})",
                        hint="the flow file is truncated or not a mitmproxy flow file",
                    ) from None
                count += 1
                for record in flow_records([flow]):
                    if record["kind"] == "open":
                        found += 1
                    yield record
        finally:
            if buffered is not self._source:
                buffered.close()
            for handle in opened:
                if handle is not self._source:
                    handle.close()
        if not found:
            raise self.error(
                f"no WebSocket flows (the file has {count} flows)",
                hint="record the WebSocket connection with mitmdump -w",
            )


def _json_safe(value: Any) -> Any:
    """Replace what JSON cannot hold (lone surrogates, odd keys) so the event can be written."""
    if isinstance(value, dict):
        return {_json_safe(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


class PastedSource(ImportedSource):
    """Text holding Realtime events (forum posts, console output, YAML logs)."""

    kind = "pasted-log"

    def _records(self) -> Iterator[Record]:
        data = read_input(self._source, self.name)
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = data.decode("utf-16", "replace")  # e.g. PowerShell's "> file" redirection
        elif b"\x00" in data[:4096]:
            raise self.error("binary data, not a log or a capture", line=1)
        else:
            text = data.decode("utf-8", "replace")
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped.startswith("{") and '"log"' in stripped[:200]:
            try:
                doc = orjson.loads(stripped)
            except orjson.JSONDecodeError:
                doc = None
            if is_har(doc):
                assert isinstance(doc, dict)
                har = HarSource(self._source, self.name, doc)
                self.header = har.header
                yield from har
                self.problems.extend(har.problems)
                return
        result = scan_text(text)
        self.lines = text.count("\n") + 1
        for line, what, hint in result.problems:
            self._note(what, hint, line)
        if not result.events:
            raise self.error(
                "no Realtime events found",
                hint="expected JSON, Python or JavaScript objects or YAML documents with a "
                "'type' such as 'session.update'",
            )
        clock = any(e.clock for e in result.events)
        timed = any(e.t is not None and not e.clock for e in result.events)
        if self.header is not None:
            # How to read 't': epoch seconds, seconds since midnight (a log with times but no
            # dates), or none at all.
            self.header["times"] = (
                "time-of-day"
                if clock and not timed
                else ("epoch" if timed and not clock else ("mixed" if timed else "none"))
            )
        for seq, found in enumerate(result.events):
            event = found.event
            try:
                payload = orjson.dumps(event)
            except (orjson.JSONEncodeError, TypeError):
                event = _json_safe(event)
                payload = orjson.dumps(event)
            if might_hold_secret(payload):
                event, _ = redact_event(event)
            etype = str(event.get("type"))
            record: Record = {
                "kind": "msg",
                "conn": PASTED_CONN,
                "seq": seq,
                "t": None if found.t is None else round(found.t, 6),
                "from": direction_for(etype, found.hint),
                "size": None,
                "event": event,
                "line": found.line,
            }
            if found.clock and found.t is not None:
                record["time_of_day"] = True  # t counts seconds since midnight: no date in the log
            yield record
