"""The recorder's per-message encoding cost, piece by piece (µs per message, no proxy involved).

What ``Recorder.websocket_message`` does for every message, timed in isolation on the harness's
Realtime-shaped payloads: ``message_record`` (classify + parse + redaction prefilter),
``might_hold_secret`` (the redaction prefilter alone), ``dumps`` of the record, and
``CaptureWriter.write_line`` (one ``write(2)`` to a file in a temp dir), and the suggested
prefilter that skips the base64 audio (``prefilter_skipping_audio``). Best of ``--repeat``
timings of ``--number`` calls each, so a busy machine inflates these less than wall-clock runs.

    python bench/codec_cost.py [--number 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import timeit

import _common as c
import harness
import orjson

from rtscope.capture.codec import dumps, message_record
from rtscope.capture.redact import might_hold_secret
from rtscope.capture.writer import CaptureWriter
from rtscope.protocol.events import AUDIO_FIELDS


def prefilter_skipping_audio(payload: bytes, event: dict[str, object]) -> bool:
    """The fix suggested in docs/performance.md, timed here (not used by rtscope itself).

    Same answer as ``might_hold_secret(payload)`` for any payload whose audio field is plain
    base64 (no ``-``, ``_`` or space, so no secret pattern can sit inside it): only the bytes
    around the audio string are scanned.
    """
    etype = event.get("type")
    fields = AUDIO_FIELDS.get(etype) if isinstance(etype, str) else None
    if fields:
        name = fields[0]
        value = event.get(name)
        if isinstance(value, str) and len(value) > 256:
            if "-" not in value and "_" not in value and " " not in value:
                raw = value.encode("ascii", "surrogateescape")
                # A verbatim payload holds the value right after its key (compact JSON); check
                # the bytes there are the value (memcmp) instead of searching for it.
                key = b'"' + name.encode() + b'":"'
                at = payload.find(key)
                start = at + len(key)
                if at >= 0 and payload[start : start + len(raw)] == raw:
                    return might_hold_secret(payload[:start]) or might_hold_secret(
                        payload[start + len(raw) :]
                    )
    return might_hold_secret(payload)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--number", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.number, args.repeat = 500, 2
    c.banner("recorder encoding cost per message (µs), best of repeats")
    print(f"   {'payload':28} {'message_record':>15} {'might_hold_secret':>18} {'dumps':>7}"
          f" {'write_line':>11} {'skip-audio prefilter':>21}")  # fmt: skip
    with c.workdir() as work:
        writer = CaptureWriter(work / "cost.jsonl")
        try:
            for label, payload, from_client in (
                ("client 200 B", harness.client_event(200, 1), True),
                ("client 4 KB (append)", harness.client_event(4096, 1), True),
                ("server 200 B", harness.server_event(200, 1), False),
                ("server 4 KB (audio delta)", harness.server_event(4096, 1), False),
            ):
                record = message_record("c1", 1, 1.0, from_client, payload, True)
                line = dumps(record)

                def best(fn: object) -> float:
                    times = timeit.repeat(fn, number=args.number, repeat=args.repeat)  # type: ignore[arg-type]
                    return min(times) / args.number * 1e6

                enc = best(
                    lambda p=payload, f=from_client: message_record("c1", 1, 1.0, f, p, True)
                )
                pre = best(lambda p=payload: might_hold_secret(p))
                dmp = best(lambda r=record: dumps(r))
                wrt = best(lambda ln=line: writer.write_line(ln))
                event = orjson.loads(payload)
                alt = best(lambda p=payload, e=event: prefilter_skipping_audio(p, e))
                print(
                    f"   {label:28} {enc:>15.1f} {pre:>18.1f} {dmp:>7.1f} {wrt:>11.1f} {alt:>21.1f}"
                )
        finally:
            writer.close()
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
