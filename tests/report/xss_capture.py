"""A capture whose events carry HTML/script payloads everywhere the report prints text."""

from __future__ import annotations

import json
from pathlib import Path

from rtscope.capture.codec import message_record, open_record
from rtscope.capture.writer import CaptureWriter

#: Would mark the page if any of it ran or became an element.
PAYLOAD = (
    "</pre></details></script><script>document.body.setAttribute('data-pwned','1')</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">'\"&amp;"
)


def write_xss_capture(path: Path) -> Path:
    with CaptureWriter(path) as w:
        w.write(open_record("x<b>1", 1000.0, "wss://h/?q=" + PAYLOAD, {}, {}, 101))
        events = [
            (
                "S",
                {"type": "session.created", "session": {"instructions": PAYLOAD, "model": PAYLOAD}},
            ),
            (
                "C",
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": PAYLOAD}],
                    },
                },
            ),
            ("S", {"type": PAYLOAD, "x": PAYLOAD}),
            ("S", {"type": "error", "error": {"code": PAYLOAD, "message": PAYLOAD}}),
            ("S", {"type": "response.created", "response": {"id": PAYLOAD}}),
            ("S", {"type": "response.done", "response": {"id": PAYLOAD, "status": "failed"}}),
        ]
        for seq, (frm, event) in enumerate(events):
            payload = json.dumps(event).encode()
            w.write(message_record("x<b>1", seq, 1000.5 + seq, frm == "C", payload, True))
        w.write(message_record("x<b>1", 99, 1009.0, False, PAYLOAD.encode(), True))
    return path
