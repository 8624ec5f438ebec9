"""The forgiving object reader: Python reprs, JavaScript console objects, and its errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtscope.capture.importers.relaxed import RelaxedError, parse_relaxed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2.5, null, true]}', {"a": [1, 2.5, None, True]}),
        ("{'a': None, 'b': True, 'c': False}", {"a": None, "b": True, "c": False}),
        ("{a: 'x', b: [1, 2,], }", {"a": "x", "b": [1, 2]}),
        (
            "{ 'k': ('one' 'two'), 't': (1, 2), 's': ('x',) }",
            {"k": "onetwo", "t": [1, 2], "s": ["x"]},
        ),
        (
            "{a: undefined, b: NaN, c: -1e3, d: 0x10, e: 1_000}",
            {"a": None, "b": None, "c": -1000.0, "d": 16, "e": 1000},
        ),
        (
            "{'q': 'it\\'s', \"r\": \"say \\\"hi\\\"\", 'u': '\\u00e9\\n'}",
            {"q": "it's", "r": 'say "hi"', "u": "é\n"},
        ),
        ("{a: 1, /* note */ b: 2 // end\n}", {"a": 1, "b": 2}),
        (
            "{ response: {…}, items: [ [Array], [Circular *1] ] }",
            {"response": {}, "items": ["[Array]", "[Circular *1]"]},
        ),
        ("{'data': b'abc'}", {"data": "abc"}),
        (
            "ErrorEvent(error=Error(code='x', param=None), type='error', "
            "when=datetime.date(2025, 1, 1))",
            {
                "error": {"code": "x", "param": None},
                "type": "error",
                "when": "datetime.date(2025, 1, 1)",
            },
        ),
    ],
)
def test_reads_python_and_javascript_object_literals(text: str, expected: object) -> None:
    assert parse_relaxed(text) == expected


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{'a': <Response object at 0x7f>}", 6),  # at the "<"
        ("{'a': 'unterminated}", 6),
        ("{'a' 1}", 5),
        ("{'a': 1} trailing", 9),
    ],
)
def test_reports_where_it_cannot_read(text: str, where: int) -> None:
    with pytest.raises(RelaxedError) as info:
        parse_relaxed(text)
    assert info.value.pos == where


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(RelaxedError):
        parse_relaxed("{a: " + "[" * 5000 + "]" * 5000 + "}")


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_relaxed_error(text: str) -> None:
    try:
        parse_relaxed(text)
    except RelaxedError:
        pass


def test_escaped_surrogates_are_joined_or_replaced() -> None:
    assert parse_relaxed("{'a': '\\ud83d\\ude00 \\ud800'}") == {"a": "\U0001f600 \ufffd"}


def test_number_like_tokens_that_are_not_numbers_stay_text() -> None:
    assert parse_relaxed("{a: 0x_}") == {"a": "0x_"}
