"""The recorder: a mitmproxy addon that writes each WebSocket connection to a capture file.

Use it from mitmdump (``mitmdump -s "$(rtscope addon-path)" --set rtscope_dir=captures``) or
through ``rtscope record``, which runs it in a lean in-process mitmproxy (:mod:`.master`).

Design (see docs/recording.md, "Durability and the event loop"):

- ``websocket_message`` runs on mitmproxy's event loop and the message is forwarded right after the
  hook returns. The hook encodes the message (``message_record`` embeds JSON verbatim) and appends
  it with one ``write(2)`` to an ``O_APPEND`` file: the line is in the page cache before the message
  is forwarded, so a ``kill -9`` of the proxy loses nothing that was forwarded. No fsync per line.
- Blocking work (mkdir, open, the header, fsync, close) runs in a worker thread: file creation
  is awaited in ``websocket_start`` (only that connection waits; mitmproxy queues its messages),
  closing is handed off in ``websocket_end`` without waiting.
- Fail-open: every hook catches its own exceptions, reports each kind once on stderr
  (:class:`.alarm.Alarm`) and, when possible, as an ``error`` record in the capture. A full disk
  leaves an ``incomplete`` record (:mod:`.connection`).
- Bounded memory: mitmproxy keeps every message on the flow (mitmproxy issue 6620). After
  recording a message the hook trims ``flow.websocket.messages`` to its newest entry (what
  mitmdump's Dumper reads). So mitmproxy's own ``-w``/``hardump`` see only the last message.
- No idle cut: mitmproxy's 600 s idle timeout is lifted (:mod:`.idle`).
- Process mode (``rtscope_writer=process``, ``rtscope record --writer process``; both default to
  ``auto``, which is process mode where the proxy may run on two CPUs: :func:`resolve_writer`):
  the hooks hand each message to a writer process (:mod:`.writer_process`) that runs this same
  class's :meth:`Recorder.begin`, :meth:`Recorder.message` and :meth:`Recorder.finish`; the
  proxy's own share per message is one ``writev(2)`` into a pipe, before the message is forwarded.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from ..capture.codec import (
    AudioMode,
    Record,
    close_record,
    dumps,
    message_records,
    open_record,
)
from ..capture.redact import redact_event, redact_text
from ..capture.writer import CaptureWriter, capture_filename
from .alarm import Alarm, describe, kind_of
from .connection import ConnectionLog, LineSink, iso
from .idle import apply_idle_timeout
from .live import LiveFindings, load_live_analyzer

if TYPE_CHECKING:
    from .writer_process import WriterProcess

__all__ = [
    "BODY_LIMIT",
    "WRITER_PROCESS_POSSIBLE",
    "Recorder",
    "Summary",
    "format_summary",
    "resolve_writer",
]

#: At most this many bytes of a refused handshake's response body are kept.
BODY_LIMIT = 4096

Summary = dict[str, Any]


def _is_ws_upgrade(flow: Any) -> bool:
    request = flow.request
    return "websocket" in request.headers.get("upgrade", "").lower()


def _ws_url(flow: Any) -> str:
    url: str = flow.request.pretty_url
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


def _model_of(flow: Any) -> str | None:
    query = flow.request.query
    model = query.get("model") or query.get("deployment")
    return str(model) if model else None


def _conn_id(flow: Any) -> str:
    return str(flow.id).replace("-", "")[:12]


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in headers.items(multi=True)]


def _body_excerpt(content: bytes | None) -> tuple[Any, int]:
    """A refused handshake's body, size-capped and redacted (parsed when it is JSON)."""
    if not content:
        return "", 0
    size = len(content)
    head = content[:BODY_LIMIT]
    if size <= BODY_LIMIT:
        try:
            value = orjson.loads(head)
        except orjson.JSONDecodeError:
            pass
        else:
            redacted, _ = redact_event(value)
            return redacted, size
    text = redact_text(head.decode("utf-8", "replace"))
    return text, size


#: How many ended connections' summaries :attr:`Recorder.summaries` keeps.
SUMMARIES_KEPT = 1000


#: The writer process needs POSIX (``fcntl``, ``writev``, process groups).
WRITER_PROCESS_POSSIBLE = os.name == "posix"


def resolve_writer(writer: str, cpus: int | None = None) -> str:
    """``auto`` → ``process`` when there is a CPU for the writer beside the proxy's, else
    ``inline`` (a writer process on one CPU only adds the hand-off to the proxy's work; and
    outside POSIX there is none: it needs ``fcntl`` and ``writev``)."""
    if writer != "auto":
        return writer
    if not WRITER_PROCESS_POSSIBLE:
        return "inline"
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "process" if (cpus or 1) >= 2 else "inline"


class Recorder:
    """mitmproxy addon: one capture file per WebSocket connection (or all in ``rtscope_file``).

    Args:
        out: stream for per-connection summary lines (stdout by default).
        err: stream for errors (stderr by default).
        on_summary: called with a summary dict at each connection's end (``rtscope record``, tests).
    """

    def __init__(
        self,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        on_summary: Callable[[Summary], None] | None = None,
    ) -> None:
        self.alarm = Alarm(err)
        self._out = Alarm(out, stdout=True)  # the same never-raising printer, for normal output
        self._on_summary = on_summary
        self.out_dir = Path("captures")
        self.audio: AudioMode = "keep"
        self.quiet = False
        self.single_file: Path | None = None
        self._live: LiveFindings | None = None
        #: ``self.live.analyze`` (looked up once, not on every message), or None
        self._live_feed: Callable[[Record], list[Any]] | None = None
        self.idle_timeout = 0
        self.mapped = False
        #: ``inline`` (the hooks encode and write) or ``process`` (:mod:`.writer_process` does)
        self.writer: str = "inline"
        self._handoff: WriterProcess | None = None
        #: process mode: flow id → the connection's key in the hand-off
        self._keys: dict[str, int] = {}
        self._conns: dict[str, ConnectionLog] = {}
        self._shared: LineSink | None = None
        self._shared_lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: The newest connections' summaries (a recorder may run for weeks: bounded).
        self.summaries: collections.deque[Summary] = collections.deque(maxlen=SUMMARIES_KEPT)
        self._options: Any = None

    # -- options -----------------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        # The options of the master that loads us, not mitmproxy's process-global ``ctx``: two
        # recorders in one process (tests, embedding) must not read each other's settings.
        self._options = getattr(getattr(loader, "master", None), "options", None)
        loader.add_option("rtscope_dir", str, "captures", "Directory for rtscope capture files.")
        loader.add_option(
            "rtscope_audio",
            str,
            "keep",
            "keep: record base64 audio (replayable); drop: replace it by its size and sha256.",
            choices=["keep", "drop"],
        )
        loader.add_option(
            "rtscope_live", bool, False, "Run rtscope's live analyzers and print findings."
        )
        loader.add_option(
            "rtscope_file",
            str,
            "",
            "Write every connection to this one capture file (relative to rtscope_dir).",
        )
        loader.add_option(
            "rtscope_idle_timeout",
            int,
            0,
            "Close connections idle for this many seconds (0: never; mitmproxy's default is 600).",
        )
        loader.add_option("rtscope_quiet", bool, False, "No per-connection summary lines.")
        loader.add_option(
            "rtscope_writer",
            str,
            "auto",
            "process: the proxy hands each message to a writer process, which encodes, writes "
            "and analyzes it (the second CPU does the recording); inline: the proxy does it all "
            "itself; auto: process where the proxy may run on two CPUs or more, else inline.",
            choices=["auto", "inline", "process"],
        )
        loader.add_option(
            "rtscope_mapped",
            bool,
            False,
            "Write captures through a memory map: less CPU per message, but no tail -f while "
            "recording and NUL bytes at the end of a capture if the proxy is killed.",
        )

    def configure(self, updated: set[str]) -> None:
        opts = self._options
        if opts is None:
            from mitmproxy import ctx

            opts = ctx.options
        if "rtscope_dir" in updated:
            self.out_dir = Path(os.path.expanduser(opts.rtscope_dir))
        if "rtscope_audio" in updated:
            self.audio = "drop" if opts.rtscope_audio == "drop" else "keep"
        if "rtscope_quiet" in updated:
            self.quiet = bool(opts.rtscope_quiet)
        if "rtscope_mapped" in updated:
            self.mapped = bool(opts.rtscope_mapped)
        if "rtscope_writer" in updated:
            self.writer = resolve_writer(str(opts.rtscope_writer))
        if "rtscope_file" in updated or "rtscope_dir" in updated:
            name = opts.rtscope_file
            self.single_file = self.out_dir / os.path.expanduser(name) if name else None
        if "rtscope_live" in updated:
            self.set_live(bool(opts.rtscope_live))
        if "rtscope_idle_timeout" in updated or "tcp_timeout" in updated:
            self.idle_timeout = apply_idle_timeout(opts.rtscope_idle_timeout, opts)

    def set_live(self, on: bool) -> None:
        """Switch live analysis on (if this build has the analyzers) or off."""
        self.live = None
        if on:
            analyzer = load_live_analyzer()
            if analyzer is not None:
                self.live = LiveFindings(analyzer, self.alarm.say)

    def settings(self) -> dict[str, Any]:
        """What a writer process needs to write as this recorder would (:meth:`apply`)."""
        return {
            "dir": str(self.out_dir),
            "audio": self.audio,
            "live": self._live is not None,
            "quiet": self.quiet,
            "file": None if self.single_file is None else str(self.single_file),
            "mapped": self.mapped,
        }

    def apply(self, settings: dict[str, Any]) -> None:
        """Take the :meth:`settings` of another recorder (in the writer process)."""
        self.out_dir = Path(settings["dir"])
        self.audio = "drop" if settings["audio"] == "drop" else "keep"
        self.quiet = bool(settings["quiet"])
        self.single_file = Path(settings["file"]) if settings["file"] else None
        self.mapped = bool(settings["mapped"])
        self.set_live(bool(settings["live"]))

    @property
    def live(self) -> LiveFindings | None:
        """Live analysis (``rtscope_live``), or None when it is off."""
        return self._live

    @live.setter
    def live(self, live: LiveFindings | None) -> None:
        self._live = live
        self._live_feed = None if live is None else live.analyze

    # -- helpers -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _open_writer(self, path: Path) -> LineSink:
        """Create a capture file (worker thread: mkdir/open/write are blocking)."""
        header = {"recorder": {"audio": self.audio}}
        return LineSink(CaptureWriter(path, header=header, mapped=self.mapped))

    async def _sink_for(self, state: ConnectionLog, model: str | None) -> LineSink:
        if self.single_file is None:
            path = self.out_dir / capture_filename(state.t_open, model, state.conn)
            return await asyncio.to_thread(self._open_writer, path)
        state.owns_sink = False
        if self._shared_lock is None:
            self._shared_lock = asyncio.Lock()
        async with self._shared_lock:
            if self._shared is None:
                self._shared = await asyncio.to_thread(self._open_writer, self.single_file)
            return self._shared

    def _write(self, state: ConnectionLog, record: Record, where: str) -> None:
        """Write one record; report the first failure of each kind (fail-open)."""
        try:
            state.write(dumps(record), float(record.get("t") or time.time()), record.get("seq"))
        except Exception as exc:
            self._report(where, exc, state)

    def _report(self, where: str, exc: BaseException, state: ConnectionLog | None) -> None:
        context = str(state.path) if state and state.path else ""
        self.alarm.report(where, exc, context)  # stderr: once per kind per process
        if state is not None and not isinstance(exc, OSError):  # OSError: ``incomplete`` record
            kind = kind_of(where, exc)
            if kind in state.errors_seen:  # the capture: once per kind per connection
                return
            state.errors_seen.add(kind)
            error = {
                "kind": "error",
                "conn": state.conn,
                "t": round(time.time(), 6),
                "where": where,
                "error": describe(exc),
            }
            try:
                state.write(dumps(error), time.time(), None)
            except Exception:  # noqa: BLE001 - already reported once
                pass

    def _feed_live(self, state: ConnectionLog, record: Record) -> None:
        """Feed a record as plain data (no ``orjson.Fragment``) to the live analyzer; print and
        write what it finds (the rare case: the analyzer's ``feed`` is called directly)."""
        feed = self._live_feed
        if feed is None or self._live is None:
            return
        try:
            found = feed(record)
            if found:
                for finding in self._live.publish(found):
                    self._write(state, finding, "writing a live finding")
        except Exception as exc:
            self._report("running live analyzers", exc, state)

    # -- hooks -------------------------------------------------------------------------------

    async def running(self) -> None:
        """The proxy is up: start the writer process now (process mode) and wait until it is
        ready, so that its start-up (~0.3 s, ~30 MB) is not the first connection's and a
        failure to start shows at once."""
        handoff = self._writer_process()
        if handoff is not None:
            await handoff.sync()
            if handoff.dead:  # it could not start: said once; record in the proxy instead
                self._handoff = None
                self.writer = "inline"
                await handoff.stop()  # reaped, its pipes closed
                self.alarm.say("rtscope: recording in the proxy itself (--writer inline) instead")

    async def websocket_start(self, flow: Any) -> None:
        state: ConnectionLog | None = None
        try:
            t = time.time()
            state = ConnectionLog(conn=_conn_id(flow), t_open=t)
            handoff = self._writer_process()
            if handoff is None:
                self._conns[flow.id] = state
            response = flow.response
            record = open_record(
                state.conn,
                (response.timestamp_start or t) if response else t,
                _ws_url(flow),
                _headers(flow.request.headers),
                _headers(response.headers) if response else [],
                response.status_code if response else None,
            )
            if handoff is not None:
                self._keys[flow.id] = handoff.start(state.conn, t, _model_of(flow), record)
                # as inline: the capture exists (header and open record written) before the
                # connection's first message is relayed
                await handoff.sync()
                return
            await self.begin(state, _model_of(flow), record)
        except Exception as exc:
            self._report("opening a capture file", exc, state)

    async def begin(self, state: ConnectionLog, model: str | None, record: Record) -> None:
        """Open the connection's capture and write its ``open`` record."""
        state.sink = await self._sink_for(state, model)
        self._write(state, record, "writing the open record")
        self._feed_live(state, record)

    def _writer_process(self) -> WriterProcess | None:
        """The writer process (started on first use) in process mode, else None; None too once
        it is gone, unless it held the one file of every connection (``--file``): a new
        connection is then recorded by the proxy itself."""
        if self.writer != "process":
            return None
        if self._handoff is not None and self._handoff.dead and self.single_file is None:
            return None
        if self._handoff is None:
            try:
                from .writer_process import WriterProcess  # POSIX only (fcntl, writev)

                self._handoff = WriterProcess(self)
            except Exception as exc:
                self.writer = "inline"
                self._report("starting the writer process (recording inline instead)", exc, None)
                return None
        return self._handoff

    def websocket_message(self, flow: Any) -> None:
        messages = flow.websocket.messages
        try:
            state = self._conns.get(flow.id)
            if state is not None:
                message = messages[-1]
                self.message(
                    state, message.timestamp, message.from_client, message.content, message.is_text
                )
            elif self._keys:
                key = self._keys.get(flow.id)
                if key is not None and self._handoff is not None:
                    message = messages[-1]
                    try:
                        self._handoff.message(
                            key,
                            message.timestamp,
                            message.from_client,
                            message.is_text,
                            message.content,
                        )
                    except OSError as exc:
                        self._report("handing a message to the writer process", exc, None)
        except Exception as exc:
            self._report("recording a message", exc, self._conns.get(flow.id))
        finally:
            if len(messages) > 1:
                del messages[:-1]  # mitmproxy issue 6620; keep the newest for Dumper

    def message(
        self, state: ConnectionLog, t: float, from_client: bool, content: bytes, is_text: bool
    ) -> None:
        """Encode and write one message (and feed it to live analysis)."""
        seq = state.next_seq(from_client)
        record, plain = message_records(
            state.conn, seq, t, from_client, content, is_text, audio=self.audio
        )
        line = dumps(record)
        try:
            state.write(line, t, seq)
        except Exception as exc:
            self._report("writing a message", exc, state)
        if self._live_feed is not None:
            self._feed_live(state, plain)

    def websocket_end(self, flow: Any) -> None:
        state = self._conns.pop(flow.id, None)
        key = self._keys.pop(flow.id, None) if state is None else None
        if state is None and key is None:
            return
        try:
            ws = flow.websocket
            code = ws.close_code
            by: Any = "client" if ws.closed_by_client else "server"
            if code == 1006:
                by = None  # transport loss: nobody sent a close frame
            t = ws.timestamp_end or time.time()
            if state is None:
                if key is not None and self._handoff is not None:
                    self._handoff.end(key, close_record("", t, code, ws.close_reason or "", by))
                return
            self.finish(state, close_record(state.conn, t, code, ws.close_reason or "", by))
        except Exception as exc:
            self._report("closing a capture", exc, state)
            if state is not None:
                self._release(state)

    def finish(self, state: ConnectionLog, record: Record) -> None:
        """Write the close record and live findings, print the summary, close off the loop."""
        self._write(state, record, "writing the close record")
        if self.live is not None:
            self._feed_live(state, record)
            try:
                for finding in self.live.finish(state.conn):
                    self._write(state, finding, "writing a live finding")
            except Exception as exc:
                self._report("running live analyzers", exc, state)
        self._summarize(state, record)
        self._release(state)

    def _release(self, state: ConnectionLog) -> None:
        if state.sink is not None and state.owns_sink:
            self._spawn(asyncio.to_thread(state.sink.close))

    def _summarize(self, state: ConnectionLog, close: Record) -> None:
        gap = state.incomplete_since
        if gap is not None and not state.flush_incomplete():
            what = f"capture {state.path}" if state.path else f"connection {state.conn}"
            self.alarm.say(
                f"rtscope: {what} is INCOMPLETE from {iso(gap)} "
                f"({state.lost} records lost: {state.last_error}); the record saying so could "
                "not be written to the file"
            )
        duration = float(close["t"]) - state.t_open
        summary: Summary = {
            "conn": state.conn,
            "path": str(state.path) if state.path else None,
            "from_client": state.from_client,
            "from_server": state.from_server,
            "duration": duration,
            "code": close.get("code"),
            "by": close.get("by"),
            "incomplete": gap is not None,
        }
        self.summarized(summary)
        if not self.quiet:
            self._out.say(format_summary(summary))

    def summarized(self, summary: Summary) -> None:
        """Keep a connection's summary and pass it on (the writer process's, in process mode)."""
        self.summaries.append(summary)
        if self._on_summary is not None:
            try:
                self._on_summary(summary)
            except Exception as exc:  # noqa: BLE001
                self._report("reporting a connection end", exc, None)

    # -- failed upgrades -----------------------------------------------------------------------

    def response(self, flow: Any) -> None:
        """A WebSocket upgrade answered with anything but 101 (401, 403, 404, 500…)."""
        try:
            if (
                flow.websocket is None
                and flow.response is not None
                and _is_ws_upgrade(flow)
                and not flow.metadata.get("rtscope_recorded")
            ):
                self._record_refused(flow, flow.response.status_code, None)
        except Exception as exc:
            self._report("recording a refused handshake", exc, None)

    def error(self, flow: Any) -> None:
        """A WebSocket upgrade that got no answer (upstream unreachable, reset…)."""
        try:
            if (
                getattr(flow, "websocket", None) is None
                and _is_ws_upgrade(flow)
                and not flow.metadata.get("rtscope_recorded")
            ):
                status = flow.response.status_code if flow.response is not None else None
                self._record_refused(flow, status, flow.error.msg if flow.error else None)
        except Exception as exc:
            self._report("recording a failed handshake", exc, None)

    def _record_refused(self, flow: Any, status: int | None, error: str | None) -> None:
        flow.metadata["rtscope_recorded"] = True
        t = time.time()
        state = ConnectionLog(conn=_conn_id(flow), t_open=flow.request.timestamp_start or t)
        extra: dict[str, Any] = {}
        response = flow.response
        if response is not None:
            body, size = _body_excerpt(response.raw_content)
            extra = {"body": body, "body_size": size}
        if error:
            extra["error"] = redact_text(error)
        records = [
            open_record(
                state.conn,
                state.t_open,
                _ws_url(flow),
                _headers(flow.request.headers),
                _headers(response.headers) if response is not None else [],
                status,
                **extra,
            ),
            close_record(state.conn, t, None, error or f"handshake refused with {status}", None),
        ]
        handoff = self._writer_process()
        if handoff is not None:
            handoff.refused(state.conn, state.t_open, _model_of(flow), records)
            return
        self._spawn(self.write_refused(state, _model_of(flow), records))

    async def write_refused(
        self, state: ConnectionLog, model: str | None, records: list[Record]
    ) -> None:
        try:
            state.sink = await self._sink_for(state, model)
            for record in records:
                self._write(state, record, "writing a refused handshake")
            self._feed_live(state, records[0])
            self.finish(state, records[-1])
        except Exception as exc:
            self._report("recording a refused handshake", exc, state)

    # -- shutdown ------------------------------------------------------------------------------

    async def done(self) -> None:
        """mitmproxy is stopping: close the connections still open, wait for pending closes."""
        for flow_id in list(self._conns):
            state = self._conns.pop(flow_id)
            try:
                self.finish(
                    state, close_record(state.conn, time.time(), None, "recorder stopped", None)
                )
            except Exception as exc:
                self._report("closing a capture at shutdown", exc, state)
        if self._handoff is not None:
            handoff, self._handoff = self._handoff, None
            try:
                for key in self._keys.values():
                    handoff.end(key, close_record("", time.time(), None, "recorder stopped", None))
            except OSError as exc:  # the writer is gone: said once by the hand-off
                self._report("closing captures at shutdown", exc, None)
            self._keys.clear()
            await handoff.stop()
        await self.drain()
        if self._shared is not None:
            shared, self._shared = self._shared, None
            await asyncio.to_thread(shared.close)
        # the printer threads: every finding and summary line out before "stopped"
        await asyncio.to_thread(self.alarm.flush)
        await asyncio.to_thread(self._out.flush)

    async def abandon(self) -> None:
        """Close every capture as it is, without close records (the writer process, when the
        proxy is gone without stopping it: what an inline recorder killed would leave)."""
        for key in list(self._conns):
            self._release(self._conns.pop(key))
        await self.drain()
        if self._shared is not None:
            shared, self._shared = self._shared, None
            await asyncio.to_thread(shared.close)

    async def drain(self) -> None:
        """Wait until every background write/close has finished (and, in process mode, until
        the writer process has written everything handed to it so far)."""
        if self._handoff is not None:
            await self._handoff.sync()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def format_summary(summary: Summary) -> str:
    """``captures/….jsonl: 3 client / 12 server messages, 4.2 s, close 1000 by client``."""
    code = summary.get("code")
    close = "no close frame" if code is None else f"close {code}"
    if summary.get("by"):
        close += f" by {summary['by']}"
    if summary.get("incomplete"):
        close += ", INCOMPLETE"
    return (
        f"{summary.get('path') or '(no file)'}: {summary['from_client']} client / "
        f"{summary['from_server']} server messages, {summary['duration']:.1f} s, {close}"
    )
