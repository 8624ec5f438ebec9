"""Backpressure for ``rtscope record``'s proxy: stop reading a peer that sends faster than we relay.

Why: mitmproxy's read loop (``ConnectionHandler.handle_connection``) reads 64 KB chunks and hands
each to the layers. While a blocking hook such as ``websocket_message`` is in flight the layer is
paused and every event that follows is appended to ``Layer._paused_event_queue`` (unbounded),
while the loop goes on reading. A peer that bursts faster than the hooks run ends up almost
entirely in the proxy's memory (bare mitmdump holds ~110 % of a burst). ``drain_writers()``, called
after each chunk, only waits for the proxy's own *write* buffers.

What this module does, per connection handler (in ``rtscope record``'s embedded proxy the
:class:`Backpressure` addon attaches itself to every connection in ``client_connected``; in a
user's ``mitmdump -s``, :class:`RecordingBackpressure` only to connections that carry a WebSocket),
without copying or subclassing mitmproxy code:

1. **Count the backlog per source connection.** When a hook task is made for a paused layer
   (``hook.blocking`` is that layer), the layer's paused-event queue is swapped for a
   :class:`BacklogQueue`, a deque that charges every queued event (its bytes + a fixed overhead)
   to the :class:`Backlog` of the connection it came from, and discharges it when the layer takes
   it back out.
2. **Pause the read loop of that connection.** The handler's ``drain_writers`` (called by the read
   loop of connection X after each chunk) first waits, when X's backlog went above ``high``,
   until it is back under ``low``; the wait is woken by the ``popleft`` that crosses ``low``, no
   polling. The kernel's socket buffers then fill and TCP pushes back on the sender.
3. **Then drain the writers of the other connections**, without mitmproxy's shared drain lock.

Why this cannot deadlock (unlike making the read loop wait for the hooks under mitmproxy's
``drain_writers``): a backlog drains when hooks complete, and a hook never waits for a peer or for
a read loop, so step 2 always ends. Step 3 makes the read loop of X wait only for the writers
that X's data goes to: mitmproxy's own drain waits for *every* writer, X's included, under one
lock shared by both read loops, so a peer that stops reading while its send is blocked (an echo
server, once it is pushed back) would stop the proxy reading that very peer: a cycle. With step 3
the only cycle left is two peers that both stop reading until their own sends finish — they
deadlock without a proxy too; the proxy only adds buffer space between them. Concurrent
``drain()`` calls on one ``asyncio.StreamWriter`` are safe since Python 3.10 (the lock was a
workaround for bpo-29930); writers of another type keep mitmproxy's locked drain.

Fail-open: if mitmproxy's internals are not the expected ones (checked once, structurally, on
11.x and 12.x they are) nothing is patched. If a connection's backlog stops draining for
``stall`` seconds (a layer abandoned with queued events, a hook that never returns), that
connection reads on without a limit, as plain mitmproxy does, and one line says so.
"""

from __future__ import annotations

import asyncio
import collections
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = [
    "BACKLOG_OPTION",
    "DEFAULT_HIGH",
    "EVENT_COST",
    "STALL_SECONDS",
    "Backlog",
    "BacklogQueue",
    "Backpressure",
    "HandlerMeter",
    "RecordingBackpressure",
    "event_cost",
    "incompatibility",
]

#: Default high-water mark of one connection's backlog (bytes queued in paused layers).
DEFAULT_HIGH = 1 << 20
#: What an event costs beyond its payload (the event object, the deque slot).
EVENT_COST = 256
#: A backlog that has not shrunk for this long is considered stuck: that connection reads on.
STALL_SECONDS = 5.0


def event_cost(event: object) -> int:
    """Bytes charged for a queued event: its payload (``DataReceived.data``) + ``EVENT_COST``."""
    data = getattr(event, "data", None)
    return EVENT_COST + (len(data) if isinstance(data, bytes | bytearray | memoryview) else 0)


class Backlog:
    """Bytes that one connection has queued in paused layers, with high/low-water hysteresis.

    ``ready`` is set while reading may go on: cleared when ``queued`` rises above ``high``, set
    again when it falls to ``low`` or below. ``high=None`` only measures (never pauses).
    """

    def __init__(self, high: int | None, low: int) -> None:
        self.high = high
        self.low = low
        self.queued = 0
        self.peak = 0
        #: Events taken back out so far (the stall detector's sign of progress).
        self.drained = 0
        #: Times a read loop actually had to wait.
        self.pauses = 0
        #: Set when the backlog was found stuck: no limit for this connection any more.
        self.unlimited = False
        self.ready = asyncio.Event()
        self.ready.set()

    def add(self, cost: int) -> None:
        self.queued += cost
        if self.queued > self.peak:
            self.peak = self.queued
        if self.high is not None and self.queued > self.high and not self.unlimited:
            self.ready.clear()

    def remove(self, cost: int) -> None:
        self.queued -= cost
        self.drained += 1
        if self.queued <= self.low and not self.ready.is_set():
            self.ready.set()

    async def wait(self, stall: float) -> bool:
        """Until reading may go on; False if the backlog was stuck for ``stall`` s (gave up)."""
        if self.ready.is_set():
            return True
        self.pauses += 1
        while True:
            seen = self.drained
            try:
                async with asyncio.timeout(stall):
                    await self.ready.wait()
                return True
            except TimeoutError:
                if self.drained == seen:
                    self.unlimited = True
                    self.ready.set()
                    return False


class HandlerMeter:
    """The backlogs of one connection handler, one per source connection."""

    def __init__(self, high: int | None, low: int) -> None:
        self.high = high
        self.low = low
        self.backlogs: dict[object, Backlog] = {}

    def backlog(self, connection: object) -> Backlog:
        found = self.backlogs.get(connection)
        if found is None:
            found = self.backlogs[connection] = Backlog(self.high, self.low)
        return found

    def charge(self, event: object) -> None:
        self.backlog(getattr(event, "connection", None)).add(event_cost(event))

    def discharge(self, event: object) -> None:
        self.backlog(getattr(event, "connection", None)).remove(event_cost(event))

    @property
    def peak(self) -> int:
        return max((b.peak for b in self.backlogs.values()), default=0)

    @property
    def pauses(self) -> int:
        return sum(b.pauses for b in self.backlogs.values())


class BacklogQueue(collections.deque[Any]):
    """A paused layer's event queue that keeps its :class:`HandlerMeter` up to date.

    mitmproxy's ``Layer`` only appends, pops from the left, iterates and tests truthiness; the
    other mutators are covered too so that the count cannot drift.
    """

    def __init__(self, items: Iterable[Any], meter: HandlerMeter) -> None:
        super().__init__()
        self.meter = meter
        for item in items:
            self.append(item)

    def append(self, item: Any) -> None:
        self.meter.charge(item)
        super().append(item)

    def appendleft(self, item: Any) -> None:
        self.meter.charge(item)
        super().appendleft(item)

    def extend(self, items: Iterable[Any]) -> None:
        for item in items:
            self.append(item)

    def extendleft(self, items: Iterable[Any]) -> None:
        for item in items:
            self.appendleft(item)

    def popleft(self) -> Any:
        item = super().popleft()
        self.meter.discharge(item)
        return item

    def pop(self) -> Any:  # type: ignore[override]  # deque.pop takes no index
        item = super().pop()
        self.meter.discharge(item)
        return item

    def remove(self, item: Any) -> None:
        super().remove(item)
        self.meter.discharge(item)

    def clear(self) -> None:
        while self:
            self.popleft()


def incompatibility() -> str | None:
    """Why this mitmproxy cannot take the patch (None: it can), checked structurally.

    The patch relies on: the read loop calling ``self.drain_writers()`` after each chunk,
    ``hook_task`` running the hook and feeding ``HookCompleted`` back, ``Layer`` queueing events in
    ``_paused_event_queue`` while paused, and ``transports`` mapping connections to their
    reader/writer/handler task. True of mitmproxy 11.0 to 12.x.
    """
    try:
        from mitmproxy.proxy import layer, server
    except ImportError as exc:  # pragma: no cover - mitmproxy is a dependency
        return f"mitmproxy not importable ({exc})"
    handler = server.ConnectionHandler
    checks = [
        ("drain_writers" in handler.handle_connection.__code__.co_names, "read loop"),
        ("server_event" in handler.hook_task.__code__.co_names, "hook_task"),
        ("_paused_event_queue" in layer.Layer.handle_event.__code__.co_names, "Layer queue"),
        (hasattr(server, "ConnectionIO"), "ConnectionIO"),
    ]
    missing = [what for ok, what in checks if not ok]
    return f"mitmproxy internals differ ({', '.join(missing)})" if missing else None


@dataclass
class _Attached:
    meter: HandlerMeter
    handler: Any


class Backpressure:
    """mitmproxy addon: per-connection backpressure for the handlers of ``rtscope record``'s proxy.

    ``high``: a connection's backlog above which its read loop pauses (``None``: measure only,
    never pause); it resumes at ``low`` (default ``high // 2``). ``peak`` / ``pauses`` report what
    happened, for tests and benches.
    """

    def __init__(
        self,
        high: int | None = DEFAULT_HIGH,
        low: int | None = None,
        *,
        stall: float = STALL_SECONDS,
        err: TextIO | None = None,
    ) -> None:
        self.high = high
        self.low = low if low is not None else (high // 2 if high is not None else 0)
        self.stall = stall
        self._err = err
        self._proxyserver: Any = None
        #: Why the patch cannot be applied (checked when mitmproxy loads the addon; None: it can).
        self.unavailable: str | None = None
        self._warned_unavailable = False
        #: Handlers patched and still open (closed ones are folded into the totals below).
        self.attached: list[_Attached] = []
        self._closed_peak = 0
        self._closed_pauses = 0
        #: Handlers patched since start.
        self.handlers = 0

    # ------------------------------------------------------------------ reporting

    @property
    def peak(self) -> int:
        """The largest backlog any connection reached since start (bytes charged)."""
        return max([self._closed_peak, *(a.meter.peak for a in self.attached)])

    @property
    def pauses(self) -> int:
        """How many times a read loop had to wait for its backlog since start."""
        return self._closed_pauses + sum(a.meter.pauses for a in self.attached)

    def _say(self, line: str) -> None:
        stream = self._err if self._err is not None else sys.stderr
        try:
            stream.write(f"rtscope: {line}\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    # ------------------------------------------------------------------ mitmproxy hooks

    def load(self, loader: Any) -> None:
        self.unavailable = incompatibility()

    def client_connected(self, client: Any) -> None:
        self._attach_client(client.id)

    def _master(self) -> Any:
        from mitmproxy import ctx

        return ctx.master

    def _attach_client(self, client_id: str) -> None:
        """Patch the handler of the client connection ``client_id`` (once)."""
        if self.unavailable is not None:
            if not self._warned_unavailable:
                self._warned_unavailable = True
                self._say(f"no backpressure: {self.unavailable}")
            return
        if self._proxyserver is None:
            self._proxyserver = self._master().addons.get("proxyserver")
        # Proxyserver registers each handler under its client's id before handle_client() runs
        # the client_connected hook (mitmproxy 11 and 12: ServerInstance.handle_stream).
        connections = getattr(self._proxyserver, "connections", None)
        handler = connections.get(client_id) if isinstance(connections, dict) else None
        if handler is None or any(a.handler is handler for a in self.attached):
            return
        self._forget_closed()
        self.attached.append(_Attached(self.attach(handler), handler))
        self.handlers += 1

    def _forget_closed(self) -> None:
        still: list[_Attached] = []
        for a in self.attached:
            if a.handler.transports:
                still.append(a)
            else:
                self._closed_peak = max(self._closed_peak, a.meter.peak)
                self._closed_pauses += a.meter.pauses
        self.attached = still

    # ------------------------------------------------------------------ the patch

    def attach(self, handler: Any) -> HandlerMeter:
        """Patch one connection handler (instance attributes only) and return its meter."""
        meter = HandlerMeter(self.high, self.low)
        hook_task: Callable[[Any], Awaitable[None]] = handler.hook_task
        locked_drain: Callable[[], Awaitable[None]] = handler.drain_writers

        def counting_hook_task(hook: Any) -> Awaitable[None]:
            # Called by server_event right after the layer paused on ``hook`` (no extra coroutine
            # per hook: the original coroutine is returned). The layer reads its queue through
            # ``self._paused_event_queue`` every time, so swapping it here is safe.
            paused = hook.blocking
            queue = getattr(paused, "_paused_event_queue", None)
            if isinstance(queue, collections.deque) and not isinstance(queue, BacklogQueue):
                paused._paused_event_queue = BacklogQueue(queue, meter)
            return hook_task(hook)

        async def drain_writers() -> None:
            task = asyncio.current_task()
            transports = list(handler.transports.items())
            own = next((conn for conn, io in transports if io.handler is task), None)
            if own is None:
                await locked_drain()
                return
            backlog = meter.backlogs.get(own)
            if backlog is not None and not await backlog.wait(self.stall):
                self._say(
                    f"backpressure: a connection's backlog ({backlog.queued:,} bytes) has not"
                    f" drained for {self.stall:g} s; reading it on without a limit"
                )
            others = [io for conn, io in transports if conn is not own and io.writer is not None]
            if not all(isinstance(io.writer, asyncio.StreamWriter) for io in others):
                await locked_drain()
                return
            for io in others:
                try:
                    await io.writer.drain()
                except OSError as exc:
                    if io.handler is not None:
                        io.handler.cancel(f"Error sending data: {exc}")

        handler.hook_task = counting_hook_task
        handler.drain_writers = drain_writers
        return meter


#: mitmdump option of :class:`RecordingBackpressure`: a WebSocket connection's backlog limit.
BACKLOG_OPTION = "rtscope_backlog"


class RecordingBackpressure(Backpressure):
    """:class:`Backpressure` for ``mitmdump -s "$(rtscope addon-path)"``: the recorded connections.

    A stock mitmdump proxies whatever its user sends through it, so this patches a connection's
    handler only when a WebSocket starts on it (``websocket_start``): plain HTTP keeps mitmproxy's
    own behaviour. Option ``rtscope_backlog``: the limit in bytes (default 1 MiB, resuming at half
    of it; ``0`` turns it off, for connections that start after the change).
    """

    def __init__(self, *, stall: float = STALL_SECONDS, err: TextIO | None = None) -> None:
        super().__init__(DEFAULT_HIGH, stall=stall, err=err)
        self._loader_master: Any = None

    def _master(self) -> Any:
        # The master that loaded us, not mitmproxy's process-global ``ctx`` (tests and embedders
        # run several masters in one process).
        return self._loader_master if self._loader_master is not None else super()._master()

    def load(self, loader: Any) -> None:
        super().load(loader)
        self._loader_master = getattr(loader, "master", None)
        loader.add_option(
            BACKLOG_OPTION,
            int,
            DEFAULT_HIGH,
            "Stop reading a recorded WebSocket connection while this many bytes it sent wait "
            "inside mitmproxy (resume at half); 0: no limit, mitmproxy's behaviour.",
        )

    def configure(self, updated: set[str]) -> None:
        if BACKLOG_OPTION not in updated:
            return
        value = self._master().options.rtscope_backlog
        if value < 0:
            from mitmproxy import exceptions

            refuse: Any = exceptions.OptionsError  # (mitmproxy's exceptions are untyped)
            raise refuse(f"{BACKLOG_OPTION} must be 0 (off) or a number of bytes, not {value}")
        self.high = value or None
        self.low = value // 2

    def client_connected(self, client: Any) -> None:
        return  # not every connection of the user's proxy: only those that carry a WebSocket

    def websocket_start(self, flow: Any) -> None:
        if self.high is not None:
            self._attach_client(flow.client_conn.id)
