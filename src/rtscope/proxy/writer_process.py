"""The writer process: ``rtscope record --writer process`` (option ``rtscope_writer=process``),
the default of both where the proxy may run on two CPUs (``auto``).

A recorder in process mode starts ``python -m rtscope.proxy.writer_process`` on first use and
hands it every WebSocket message as it came (:mod:`.handoff`: one ``writev(2)`` per message into a
pipe). The writer runs a :class:`~rtscope.proxy.addon.Recorder` of its own with the proxy's
settings: the same encoding, redaction, capture files, ``incomplete`` records, live analysis and
summaries as inline recording, on the machine's other CPU. What it prints and its summaries come
back to the proxy on a second pipe and are printed there.

Guarantees, and what differs from inline recording:

- A message is in the pipe (the kernel) before the proxy forwards it. ``kill -9`` of the proxy
  loses nothing forwarded: the writer reads the pipe to its end, closes the captures as they are
  (no ``close`` record, as an inline recorder killed would leave them) and exits.
- Lines reach the file a little later than the message is forwarded: the writer, woken by the
  hand-off, waits :data:`SETTLE` (50 ms) before it reads (:func:`handed_over`), or less when the
  proxy pokes it (every quarter of the pipe handed over, and for what it waits on). ``tail -f``
  still follows the session.
- The writer runs in a process group of its own and ignores ``SIGINT``: a ``Ctrl-C`` in the
  terminal is the proxy's to handle, and the proxy stops the writer after the last connection's
  ``close`` record.
- If the writer dies (a bug, or killed alone), the proxy says so once on stderr and keeps
  relaying; messages from then on are not recorded and their count is said at shutdown.
- The writer runs under ``SCHED_BATCH`` (Linux): its fair share of CPU, but its wake-ups never
  preempt another process (:func:`_never_preempt`).
- When the writer falls behind, the pipe (1 MiB) fills and the proxy's ``writev`` waits: the
  proxy slows to the writer's pace, nothing is dropped.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .handoff import CTL, HEADER, MSG, ItemReader, LineReader, control, message_header

if TYPE_CHECKING:
    from ..capture.codec import Record
    from .addon import Recorder

__all__ = ["PIPE_SIZE", "READ_SIZE", "SETTLE", "WriterProcess", "handed_over", "main", "settle_for"]

#: Woken by the hand-off, the writer waits this long before reading it (:func:`handed_over`):
#: at a voice session's rates it then wakes once for a few messages, not for each (a wake-up of
#: a second process costs more CPU than the message's encoding and write: docs/performance.md,
#: session 9). The proxy pokes it sooner once it has handed over a quarter of the pipe
#: (:attr:`WriterProcess.poke_every`), so the pipe does not fill at high rates.
SETTLE = 0.05

#: Bytes per read of the hand-off: below glibc's mmap threshold (128 KiB), so each read's buffer
#: comes from, and goes back to, the heap. Reads of 1 MiB had glibc raise that threshold and keep
#: freed buffers: the writer's RSS grew by ~36 MiB over `make soak`'s minute (50 sessions).
READ_SIZE = 1 << 16

#: Requested capacity of the hand-off pipe (Linux caps it at ``/proc/sys/fs/pipe-max-size``).
PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031
_F_GETPIPE_SZ = 1032

#: bytes of a message item besides its payload (counted towards the next poke)
_HEADER_SIZE = HEADER.size


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


class WriterProcess:
    """The proxy's side: start the writer, hand it items, take its answers (on the event loop)."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._loop = asyncio.get_running_loop()
        items_r, self._fd = os.pipe()
        back_r, back_w = os.pipe()
        # the poke: a byte after an item the proxy waits on (sync, stop), so the writer reads it
        # at once instead of after its settle time
        poke_r, self._poke = os.pipe()
        os.set_blocking(self._poke, False)
        try:
            fcntl.fcntl(self._fd, _F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass  # a smaller pipe only means the proxy waits sooner
        try:
            pipe_size = fcntl.fcntl(self._fd, _F_GETPIPE_SZ)
        except OSError:
            pipe_size = 1 << 16  # Linux's default
        #: bytes of messages after which the proxy pokes the writer (it would otherwise wait out
        #: its settle time while the pipe fills, and the proxy then wait on a full pipe)
        self.poke_every = max(1, pipe_size // 4)
        self._unpoked = 0
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_package_root(), env.get("PYTHONPATH", "")) if p
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rtscope.proxy.writer_process", str(back_w), str(poke_r)],
                stdin=items_r,
                stdout=subprocess.DEVNULL,  # what it says comes back on back_w; stderr: tracebacks
                pass_fds=(back_w, poke_r),
                env=env,
                # its own process group: a Ctrl-C in the terminal is the proxy's to handle (the
                # writer may still be starting, before it could ignore SIGINT itself)
                process_group=0,
            )
        except BaseException:
            for fd in (items_r, self._fd, back_r, back_w, poke_r, self._poke):
                os.close(fd)
            raise
        os.close(items_r)
        os.close(back_w)
        os.close(poke_r)
        self._back = back_r
        os.set_blocking(back_r, False)
        self._lines = LineReader()
        self._loop.add_reader(back_r, self._readable)
        self._next_key = 1
        self._syncs: dict[int, asyncio.Future[None]] = {}
        self._stopped = asyncio.Event()
        self.dead = False
        #: messages not handed over because the writer was gone
        self.lost = 0
        self._send(control("config", **recorder.settings()))

    # -- items -------------------------------------------------------------------------------

    def _send(self, item: bytes, payload: bytes = b"") -> None:
        if self.dead:
            raise BrokenPipeError("the writer process is gone")
        try:
            written = os.writev(self._fd, (item, payload))
            if written < len(item) + len(payload):  # interrupted: the rest, in order
                rest = memoryview(item + payload)[written:]
                while rest:
                    rest = rest[os.write(self._fd, rest) :]
        except OSError:
            self._gone()
            raise

    def start(self, conn: str, t_open: float, model: str | None, record: Record) -> int:
        """A new connection; its key for :meth:`message` and :meth:`end`."""
        key = self._next_key
        self._next_key += 1
        if not self.dead:  # else its messages are counted as lost (the one file, --file)
            self._send(control("start", key, conn=conn, t_open=t_open, model=model, record=record))
        return key

    def message(self, key: int, t: float, from_client: bool, is_text: bool, data: bytes) -> None:
        if self.dead:
            self.lost += 1
            return
        self._send(message_header(key, t, from_client, is_text, len(data)), data)
        self._unpoked += len(data) + _HEADER_SIZE
        if self._unpoked >= self.poke_every:
            self._unpoked = 0
            self._hurry()

    def end(self, key: int, record: Record) -> None:
        if not self.dead:
            self._send(control("end", key, record=record))

    def refused(self, conn: str, t_open: float, model: str | None, records: list[Record]) -> None:
        if not self.dead:
            self._send(control("refused", conn=conn, t_open=t_open, model=model, records=records))

    async def sync(self) -> None:
        """Until the writer has written (and closed) everything handed to it before this call."""
        if self.dead:
            return
        token = self._next_key
        self._next_key += 1
        done: asyncio.Future[None] = self._loop.create_future()
        self._syncs[token] = done
        try:
            self._send(control("sync", token=token))
        except OSError:
            return
        self._hurry()
        await done

    async def stop(self, timeout: float = 30.0) -> None:
        """Let the writer finish every connection and exit; wait for it (bounded)."""
        if not self.dead:
            try:
                self._send(control("stop"))
                self._hurry()
            except OSError:
                pass
            try:
                await asyncio.wait_for(self._stopped.wait(), timeout)
            except TimeoutError:
                self._recorder.alarm.say(
                    f"rtscope: the writer process did not finish within {timeout:.0f} s; "
                    "stopping it (its captures may miss their last lines)"
                )
                self.process.kill()
        for fd in (self._fd, self._poke):
            try:
                os.close(fd)
            except OSError:
                pass
        await asyncio.to_thread(self.process.wait)
        self._readable()  # what it said last
        self._close_back()
        if self.lost:
            self._recorder.alarm.say(
                f"rtscope: {self.lost} messages were not recorded (the writer process was gone)"
            )

    def _hurry(self) -> None:
        """Poke the writer: read what was handed over now, not after its settle time."""
        try:
            os.write(self._poke, b"!")
        except OSError:  # full (a poke is waiting already) or the writer is gone
            pass

    # -- answers -----------------------------------------------------------------------------

    def _readable(self) -> None:
        while self._back >= 0:
            try:
                chunk = os.read(self._back, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._close_back()
                if not self._stopped.is_set():
                    self._gone()
                return
            for answer in self._lines.feed(chunk):
                self._answer(answer)

    def _answer(self, answer: dict[str, Any]) -> None:
        recorder = self._recorder
        if "out" in answer:
            recorder._out.say(str(answer["out"]))
        elif "err" in answer:
            recorder.alarm.say(str(answer["err"]))
        elif "summary" in answer:
            recorder.summarized(answer["summary"])
        elif "sync" in answer:
            done = self._syncs.pop(int(answer["sync"]), None)
            if done is not None and not done.done():
                done.set_result(None)
        elif "stopped" in answer:
            self._stopped.set()

    def _close_back(self) -> None:
        if self._back >= 0:
            self._loop.remove_reader(self._back)
            os.close(self._back)
            self._back = -1

    def _gone(self) -> None:
        """The writer exited without being asked to: say so once, release the waiters."""
        if self.dead:
            return
        self.dead = True
        code = self.process.poll()
        self._recorder.alarm.say(
            "rtscope: RECORDER ERROR: the writer process exited"
            + (f" (code {code})" if code is not None else "")
            + "; traffic keeps flowing, the open connections' messages from now on are not "
            + "recorded"
            + (
                "; new connections are recorded by the proxy itself"
                if self._recorder.single_file is None
                else ", nor are new connections' (one file for all: --file)"
            )
        )
        for done in self._syncs.values():
            if not done.done():
                done.set_result(None)
        self._syncs.clear()
        self._stopped.set()


# -- the writer process ----------------------------------------------------------------------


class _Back:
    """The writer's answers: one orjson line each, whole, on the back pipe, written by a thread.

    The writer's loop never waits on this pipe: while the proxy waits on a full hand-off pipe it
    does not read its answers, and a writer waiting on the answers' pipe in turn would never
    drain the hand-off (a deadlock, e.g. a storm of live findings during a burst). Printed lines
    beyond :data:`BACKLOG` waiting are counted and said later; summaries, sync and stop answers
    always go.
    """

    BACKLOG = 10_000

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name="rtscope-answers", daemon=True)
        self._thread.start()

    def send(self, answer: dict[str, Any]) -> None:
        printed = "out" in answer or "err" in answer
        if printed and self._queue.qsize() >= self.BACKLOG:
            self._dropped += 1
            return
        if self._dropped and not printed:
            dropped, self._dropped = self._dropped, 0
            note = (
                f"rtscope: {dropped} lines of the writer process were not printed "
                "(the proxy was not reading)"
            )
            self._queue.put(orjson.dumps({"err": note}) + b"\n")
        self._queue.put(orjson.dumps(answer) + b"\n")

    def close(self) -> None:
        """Every answer out, then the thread ends."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError:
                return  # the proxy is gone


class _BackStream:
    """A text stream whose lines go back to the proxy to be printed there (``out``/``err``)."""

    def __init__(self, back: _Back, name: str) -> None:
        self._back = back
        self._name = name
        self._text = ""

    def write(self, text: str) -> int:
        self._text += text
        while "\n" in self._text:
            line, self._text = self._text.split("\n", 1)
            self._back.send({self._name: line})
        return len(text)

    def flush(self) -> None:
        pass


async def handed_over(
    fd: int, settle: float = SETTLE, poke: int | None = None
) -> AsyncIterator[bytes]:
    """The hand-off's bytes as they come on ``fd``, until the proxy closes its end.

    Read on the event loop (a thread hop per read would cost more than the message). Woken by the
    first bytes, the writer stops listening, waits ``settle`` seconds, reads everything there is,
    and listens again. So it does not work while the message that woke it is on its way: at a
    voice session's rates the round trip (client, proxy, server, proxy, client: about 2 ms here)
    is over before the writer encodes and writes, and it takes the messages of the next
    ``settle`` seconds with it: one wake-up for several messages at a voice session's rates, for
    many when they come fast (measured: docs/performance.md, sessions 7 and 9). A byte on
    ``poke`` ends the wait at once: the proxy sends one after an item it waits on (a connection's
    start, ``drain``, ``stop``), so only messages settle, and after each quarter of the pipe it
    hands over, so at high rates the wait ends before the pipe fills and the proxy never waits.
    """
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    readable = asyncio.Event()
    hurry = asyncio.Event()

    def poked() -> None:
        assert poke is not None
        try:
            if not os.read(poke, 4096):  # the proxy's end is closed
                loop.remove_reader(poke)
        except BlockingIOError:
            pass
        hurry.set()

    if poke is not None:
        os.set_blocking(poke, False)
        loop.add_reader(poke, poked)
    try:
        while True:
            readable.clear()
            loop.add_reader(fd, readable.set)
            await readable.wait()
            loop.remove_reader(fd)  # (it would be readable all along the wait)
            if not hurry.is_set():
                timer = loop.call_later(settle, hurry.set)
                await hurry.wait()
                timer.cancel()
            hurry.clear()
            while True:
                try:
                    chunk = os.read(fd, READ_SIZE)
                except BlockingIOError:
                    break
                if not chunk:
                    return
                yield chunk
    finally:
        loop.remove_reader(fd)
        if poke is not None:
            loop.remove_reader(poke)


def settle_for(pipe_size: int) -> float:
    """:data:`SETTLE`, shortened for a pipe smaller than :data:`PIPE_SIZE` (its size refused)."""
    return SETTLE * min(1.0, pipe_size / PIPE_SIZE)


async def _serve(back: _Back, poke: int | None = None) -> None:
    from .addon import Recorder
    from .connection import ConnectionLog

    recorder = Recorder(
        out=_BackStream(back, "out"),  # type: ignore[arg-type]
        err=_BackStream(back, "err"),  # type: ignore[arg-type]
        on_summary=lambda summary: back.send({"summary": summary}),
    )
    reader = ItemReader()
    conns = recorder._conns
    try:
        pipe_size = fcntl.fcntl(0, _F_GETPIPE_SZ)
    except OSError:
        pipe_size = 1 << 16  # Linux's default
    async for chunk in handed_over(0, settle_for(pipe_size), poke):
        for item in reader.feed(chunk):
            if item.kind == MSG:
                state = conns.get(str(item.key))
                if state is not None:
                    try:
                        recorder.message(
                            state, item.t, item.from_client, item.payload, item.is_text
                        )
                    except Exception as exc:
                        recorder._report("recording a message", exc, state)
                continue
            assert item.kind == CTL
            what = orjson.loads(item.payload)
            op = what["op"]
            if op == "start":
                state = ConnectionLog(conn=what["conn"], t_open=what["t_open"])
                conns[str(item.key)] = state
                try:
                    await recorder.begin(state, what["model"], what["record"])
                except Exception as exc:
                    recorder._report("opening a capture file", exc, state)
            elif op == "end":
                state = conns.pop(str(item.key), None)
                if state is not None:
                    record = what["record"]
                    record["conn"] = state.conn
                    try:
                        recorder.finish(state, record)
                    except Exception as exc:
                        recorder._report("closing a capture", exc, state)
                        recorder._release(state)
            elif op == "refused":
                state = ConnectionLog(conn=what["conn"], t_open=what["t_open"])
                await recorder.write_refused(state, what["model"], what["records"])
            elif op == "sync":
                await recorder.drain()
                back.send({"sync": what["token"]})
            elif op == "config":
                recorder.apply(what)
            elif op == "stop":
                await recorder.done()
                back.send({"stopped": True})
                return
    # the proxy is gone without stopping us (kill -9): everything it handed over is written
    await recorder.abandon()
    if reader.pending:
        recorder.alarm.say(
            f"rtscope: the proxy stopped in the middle of a message ({reader.pending} bytes "
            "of it were handed over); that message is not in the capture"
        )


def _never_preempt() -> None:
    """Put this process under ``SCHED_BATCH``: a fair share of CPU, no preemption on wake-up.

    The writer wakes for each burst of messages (at a voice session's rates, each message). Under
    the default policy the kernel lets a task it wakes take a CPU at once, and on a two-CPU
    machine that is the CPU the next process on the message's way (the server, the client, the
    proxy again) was about to need: 50 msg/s round trips took 0.3-0.45 ms longer at p50 than with
    inline recording (docs/performance.md, session 6). ``SCHED_BATCH`` keeps the writer's
    weight (unlike ``SCHED_IDLE``, which would starve it, and through the full pipe the proxy,
    behind any busy process on the machine) but never preempts on wake-up: the writer runs when
    a CPU is free or at its next turn. Needs no privilege; elsewhere, the default policy stays.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def main(argv: list[str] | None = None) -> None:
    """``python -m rtscope.proxy.writer_process BACK_FD [POKE_FD]``: items on stdin, answers on
    BACK_FD, a byte on POKE_FD when the proxy waits for the items before it."""
    args = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the proxy stops us, after its last record
    _never_preempt()
    back = _Back(int(args[0]))
    try:
        asyncio.run(_serve(back, int(args[1]) if len(args) > 1 else None))
    finally:
        back.close()


if __name__ == "__main__":
    main()
