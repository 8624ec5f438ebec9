"""Hypothesis over every importer, through :func:`open_source` (the entry point every command uses).

Whatever the bytes (HAR documents of any shape, damaged real HAR files, mutated mitmproxy flow
files, pasted text made of real log fragments), reading yields capture records (dicts with a
string ``kind`` that serialize, as ``rtscope import`` writes them) or raises
:class:`CaptureError`; nothing else escapes, and each example finishes
within its deadline (a hang fails it). The capture reader itself is fuzzed in
tests/capture/test_reader_fuzz.py.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtscope.capture.codec import dumps
from rtscope.capture.sources import open_source
from rtscope.errors import CaptureError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HARS = [p.read_bytes() for p in sorted((FIXTURES / "har").glob("*.har"))]
FLOWS = (FIXTURES / "har" / "session.mitm").read_bytes()
LOG_FILES = sorted((FIXTURES / "logs").glob("*")) + sorted((FIXTURES / "seeds").glob("*.txt"))
LOG_LINES = [
    line for p in LOG_FILES if p.suffix != ".md" or "jsonl" in p.name
    for line in p.read_text(encoding="utf-8").splitlines()
]  # fmt: skip

#: A slow example is a hang to us: 5 s is ~100x what the largest example here takes.
SETTINGS = settings(
    # RTSCOPE_FUZZ_EXAMPLES=5000 pytest tests/fuzz: a longer hunt than make test's.
    max_examples=int(os.environ.get("RTSCOPE_FUZZ_EXAMPLES", "300")),
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def consume(data: bytes, name: str = "fuzz") -> int:
    """Read ``data`` as any input; return the record count, or -1 for a CaptureError."""
    try:
        source = open_source(io.BytesIO(data), name)
        count = 0
        for record in source:
            assert isinstance(record, dict), record
            assert isinstance(record.get("kind"), str), record
            dumps(record)  # what ``rtscope import`` writes: every record must serialize
            count += 1
        for problem in source.problems:
            assert isinstance(problem, CaptureError)
            assert "\n" not in str(problem)
        return count
    except CaptureError as exc:
        assert str(exc).startswith(name), exc
        assert "\n" not in str(exc)
        return -1


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for pos, value in edits:
        if buf:
            buf[pos % len(buf)] = value
    return bytes(buf[:cut] if cut is not None else buf)


# -- HAR -------------------------------------------------------------------------------------

ws_message = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["send", "receive", "x"]) | json_values,
        "time": st.floats(allow_nan=True) | st.integers() | st.text(max_size=5) | st.none(),
        "opcode": st.sampled_from([1, 2, 8, 9]) | json_values,
        "data": st.text(max_size=60)
        | st.sampled_from(['{"type":"session.created"}', '{"type":"response.done"}', "{", ""])
        | json_values,
    },
)
har_entry = st.fixed_dictionaries(
    {},
    optional={
        "startedDateTime": st.sampled_from(["2026-01-01T00:00:00Z", "yesterday", ""]) | json_values,
        "request": st.fixed_dictionaries(
            {},
            optional={
                "url": st.sampled_from(["wss://127.0.0.1/v1/realtime?model=m", "", "::"])
                | json_values,
                "headers": st.lists(
                    st.fixed_dictionaries(
                        {"name": st.text(max_size=8), "value": st.text(max_size=8)}
                    )
                    | json_values,
                    max_size=3,
                )
                | json_values,
                "method": st.just("GET"),
            },
        )
        | json_values,
        "response": st.fixed_dictionaries({}, optional={"status": json_values}) | json_values,
        "_resourceType": st.sampled_from(["websocket", "xhr"]) | json_values,
        "_webSocketMessages": st.lists(ws_message | json_values, max_size=6) | json_values,
        "time": json_values,
    },
)
har_doc = st.fixed_dictionaries(
    {
        "log": st.fixed_dictionaries(
            {},
            optional={
                "entries": st.lists(har_entry | json_values, max_size=4) | json_values,
                "version": json_values,
            },
        )
    }  # noqa: E501
)


@SETTINGS
@given(har_doc)
def test_har_documents_of_any_shape_import_or_raise_capture_error(doc: dict[str, Any]) -> None:
    consume(json.dumps(doc).encode(), "doc.har")  # stdlib: big ints, NaN (orjson refuses them)


@SETTINGS
@given(
    st.sampled_from(HARS),
    st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=8),
    st.none() | st.integers(0, 200_000),
    st.booleans(),
)
def test_damaged_real_har_files_import_or_raise_capture_error(
    data: bytes, edits: list[tuple[int, int]], cut: int | None, gz: bool
) -> None:
    damaged = mutate(data, edits, cut)
    consume(gzip.compress(damaged) if gz else damaged, "real.har")


# -- mitmproxy flows ---------------------------------------------------------------------------


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=6),
    st.none() | st.integers(0, len(FLOWS)),
)
def test_mutated_flow_files_import_or_raise_capture_error(
    edits: list[tuple[int, int]], cut: int | None
) -> None:
    consume(mutate(FLOWS, edits, cut), "flows.mitm")


@SETTINGS
@given(st.integers(0, 10**12), st.integers(0, 999_999), st.binary(max_size=200))
def test_anything_shaped_like_a_tnetstring_imports_or_raises(
    length: int, inner: int, tail: bytes
) -> None:
    consume(f"{length}:{inner}:".encode() + b"a" + tail, "odd.mitm")


# -- pasted logs -------------------------------------------------------------------------------

fragments = (
    st.sampled_from(LOG_LINES)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "{",
            "}",
            "[",
            "]",
            "type:",
            "- type: session.update",
            "'type': 'x'",
            '"type": "error"',
            "```",
        ]
    )
)


@SETTINGS
@given(st.lists(fragments, max_size=40), st.sampled_from(["\n", "\r\n", " "]))
def test_pasted_text_of_real_log_fragments_imports_or_raises(lines: list[str], sep: str) -> None:
    consume(sep.join(lines).encode("utf-8", "surrogatepass"), "paste.txt")


@SETTINGS
@given(st.sampled_from(LOG_FILES), st.data())
def test_truncated_and_shuffled_real_logs_import_or_raise(path: Path, data: st.DataObject) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = data.draw(st.permutations(lines)) if data.draw(st.booleans()) else lines
    cut = data.draw(st.integers(0, len(lines)))
    text = "\n".join(lines[:cut])
    encoding = data.draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
    consume(text.encode(encoding), path.name)


def test_the_fixtures_themselves_import() -> None:
    """The fuzz seeds are good inputs: mutations start from something that reads."""
    assert all(consume(data) > 0 for data in HARS if b"_webSocketMessages" in data)
    assert consume(FLOWS) > 0


def test_a_flow_whose_url_has_a_byte_that_is_not_utf8_imports() -> None:
    """Found by the fuzzer: mitmproxy surrogate-escapes the byte, the URL then failed to encode
    (``rtscope import`` printed a traceback)."""
    at = FLOWS.index(b"/v1/realtime?") + len(b"/v1/realtime?")
    assert consume(mutate(FLOWS, [(at, 0x80)], None)) > 0
    at = FLOWS.index(b"/v1/realtime")
    assert consume(mutate(FLOWS, [(at + 3, 0x80)], None)) > 0
