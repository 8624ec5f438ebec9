"""Fuzzing the capture reader: whatever the bytes, it yields records or raises CaptureError.

Never another exception, never a hang (issue 7). Hypothesis drives random bytes, random JSON lines,
damaged gzip and mutations of a real capture.
"""

from __future__ import annotations

import gzip
import io

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtscope.capture import CaptureReader, dumps, header_record, message_record, open_record
from rtscope.errors import CaptureError

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
record_like = st.dictionaries(
    st.sampled_from(
        [
            "kind",
            "conn",
            "seq",
            "t",
            "from",
            "size",
            "event",
            "text",
            "data_b64",
            "type",
            "version",
            "format",
        ]
    ),
    json_values
    | st.sampled_from(["header", "open", "msg", "close", "client", "server", "rtscope.capture"]),
    max_size=8,
)


def consume(data: bytes) -> None:
    reader = CaptureReader(io.BytesIO(data), name="fuzz")
    try:
        for record in reader:
            assert isinstance(record, dict)
    except CaptureError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("fuzz")


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_capture_error(data: bytes) -> None:
    consume(data)


@SETTINGS
@given(st.lists(record_like, max_size=20))
def test_random_json_lines_never_raise_anything_but_capture_error(
    lines: list[dict[str, object]],
) -> None:
    consume(b"".join(orjson.dumps(line) + b"\n" for line in lines))


def real_capture() -> bytes:
    lines = [
        dumps(header_record(0.0)),
        dumps(open_record("c", 1.0, "ws://h/v1/realtime", {}, {}, 101)),
    ]
    for seq in range(30):
        payload = orjson.dumps({"type": "response.output_audio.delta", "delta": "AAAA" * seq})
        lines.append(dumps(message_record("c", seq, 1.0 + seq, seq % 2 == 0, payload, True)))
    return b"".join(lines)


@SETTINGS
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=8), st.booleans())
def test_mutated_real_capture_never_raises_anything_but_capture_error(
    pos: int, junk: bytes, zipped: bool
) -> None:
    data = real_capture()
    if zipped:
        data = gzip.compress(data)
    pos %= len(data)
    consume(data[:pos] + junk + data[pos + len(junk) :])


@SETTINGS
@given(st.integers(min_value=1))
def test_capture_cut_anywhere_keeps_what_came_before(cut: int) -> None:
    data = real_capture()
    cut %= len(data)
    reader = CaptureReader(io.BytesIO(data[:cut]), name="cut")
    records = list(reader)
    complete_lines = data[:cut].count(b"\n")
    partial = data[:cut].rsplit(b"\n", 1)[-1]
    # A partial last line missing only its newline is still a whole record.
    whole_but_newline = bool(partial) and data[cut : cut + 1] == b"\n"
    # every complete line but the header is a record; a partial last line is a problem, not an error
    expected = max(complete_lines - 1, 0) + (whole_but_newline and complete_lines > 0)
    assert len(records) == expected
    assert len(reader.problems) == (1 if partial and not whole_but_newline else 0)
