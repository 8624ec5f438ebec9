"""``rtscope record --no-live`` with its per-message hook cut down to one part: where its CPU goes.

A bench candidate (``--only record-hook:<variant>`` in proxy_throughput.py), not a product. It
runs the real ``rtscope record`` command, with ``Recorder.websocket_message`` replaced (in this
process only) by one of:

- ``noop``: nothing but trimming ``flow.websocket.messages`` (what every variant does): the
  embedded proxy's own cost per message;
- ``encode``: encode the message into its capture line as the recorder does, write nothing;
- ``write``: write a fixed 4.3 KB line to the capture with ``write(2)``, encode nothing;
- ``write-small``: the same with a 64-byte line;
- ``pwrite-preallocated``: ``pwrite`` the 4.3 KB line into a file preallocated (1 GiB,
  ``posix_fallocate``): the file does not grow;
- ``map-populated``: copy it into a shared mapping of such a file, populated beforehand;
- ``map-faulting``: the same, pages not populated (each first touch faults);
- ``syscall``: one ``getppid()`` (a system call that does no work).

Comparing each with ``noop`` in the same rounds separates the encoder, the kernel's write and the
system call itself (docs/performance.md, "Where the recorder's time goes, inside the proxy").

    python bench/hook_variant.py VARIANT record --upstream … --listen … --out … --no-live
"""

from __future__ import annotations

import mmap
import os
import sys
import tempfile
from typing import Any

VARIANTS = (
    "noop",
    "encode",
    "write",
    "write-small",
    "pwrite-preallocated",
    "map-populated",
    "map-faulting",
    "syscall",
)
LINE = b"x" * 4300 + b"\n"
SPARE = 1 << 30  # the preallocated file: 1 GiB, reused from its start when full


def _spare_file(populate: bool, map_it: bool) -> tuple[int, Any]:
    fd, path = tempfile.mkstemp(prefix="rtscope-hook-variant-")
    os.unlink(path)
    os.posix_fallocate(fd, 0, SPARE)
    if not map_it:
        return fd, None
    region = mmap.mmap(fd, SPARE)
    if populate:
        region.madvise(23)  # MADV_POPULATE_WRITE
    return fd, region


def install(variant: str) -> None:
    from rtscope.capture.codec import dumps, message_records
    from rtscope.proxy.addon import Recorder

    spare_fd, region = -1, None
    if variant == "pwrite-preallocated":
        spare_fd, region = _spare_file(populate=False, map_it=False)
    elif variant in ("map-populated", "map-faulting"):
        spare_fd, region = _spare_file(populate=variant == "map-populated", map_it=True)
    at = 0

    def hook(self: Recorder, flow: Any) -> None:
        nonlocal at
        messages = flow.websocket.messages
        state = self._conns.get(flow.id)
        if variant == "encode" and state is not None:
            message = messages[-1]
            record, _ = message_records(
                state.conn,
                state.next_seq(message.from_client),
                message.timestamp,
                message.from_client,
                message.content,
                message.is_text,
                audio=self.audio,
            )
            dumps(record)
        elif variant in ("write", "write-small") and state is not None and state.sink:
            state.sink.writer.write_line(LINE if variant == "write" else b"y" * 63 + b"\n")
        elif variant in ("pwrite-preallocated", "map-populated", "map-faulting"):
            if at + len(LINE) > SPARE:
                at = 0
            if region is None:
                os.pwrite(spare_fd, LINE, at)
            else:
                region[at : at + len(LINE)] = LINE
            at += len(LINE)
        elif variant == "syscall":
            os.getppid()
        if len(messages) > 1:
            del messages[:-1]

    Recorder.websocket_message = hook  # type: ignore[method-assign]


def main() -> None:
    variant = sys.argv[1] if len(sys.argv) > 1 else ""
    if variant not in VARIANTS:
        raise SystemExit(f"usage: hook_variant.py {{{','.join(VARIANTS)}}} record ARGS…")
    install(variant)
    from rtscope.cli import main as rtscope

    rtscope(sys.argv[2:])


if __name__ == "__main__":
    main()
