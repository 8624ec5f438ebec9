"""The recorder's per-message encoding cost, piece by piece (µs per message, no proxy involved).

What ``Recorder.websocket_message`` does for every message, timed in isolation on the harness's
Realtime-shaped payloads: ``message_record`` (classify + parse + redaction prefilter),
``might_hold_secret`` (the redaction prefilter alone), ``dumps`` of the record, and
``CaptureWriter.write_line`` (one ``write(2)`` to a file in a temp dir), and the prefilter
that skips the base64 audio (``event_might_hold_secret``, first suggested here). Best of
``--repeat`` timings of ``--number`` calls each, so a busy machine inflates these less than
wall-clock runs.

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
from rtscope.capture.redact import event_might_hold_secret, might_hold_secret
from rtscope.capture.writer import CaptureWriter


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
                alt = best(lambda p=payload, e=event: event_might_hold_secret(p, e))
                print(
                    f"   {label:28} {enc:>15.1f} {pre:>18.1f} {dmp:>7.1f} {wrt:>11.1f} {alt:>21.1f}"
                )
        finally:
            writer.close()
    print(f"   ({c.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
