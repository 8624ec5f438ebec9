"""A forgiving reader for object literals found in pasted logs.

People paste Realtime events as strict JSON, but also as Python ``repr``/``print`` output
(``None``, ``True``, single quotes, tuples, implicitly concatenated strings) and as JavaScript
console output (unquoted keys, single quotes, trailing commas, ``undefined``, ``[Object]`` and
``…`` where the console collapsed a value), and the reprs of the ``openai`` SDK's pydantic
models (``SessionCreatedEvent(event_id='…', session=Session(…), type='session.created')``),
whose keyword arguments become object members. :func:`parse_relaxed` reads all of these into plain
JSON values. Anything it cannot read raises :class:`RelaxedError` with the offset of the problem.

Pure and bounded: a recursive-descent parser with a nesting limit, no ``eval``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

__all__ = ["RelaxedError", "parse_relaxed"]

MAX_DEPTH = 200

_WS_COMMENT = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/|#[^\n]*)+", re.S)
_NUMBER = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?)"
)
_BARE = re.compile(r"[A-Za-z_$][\w$.\-]*")
_LITERALS: dict[str, Any] = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "null": None,
    "None": None,
    "undefined": None,
    "nil": None,
    "NaN": None,
    "Infinity": "Infinity",
}
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "/": "/",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "\n": "",
}
_ELLIPSIS = ("…", "...")
_INSPECT_MARKER = re.compile(
    r"\[(?:Object|Array|Circular[^\]\n]{0,40}|Function[^\]\n]{0,80}|Getter[^\]\n]{0,40}|"
    r"Setter[^\]\n]{0,40}|class [^\]\n]{0,80}|AsyncFunction[^\]\n]{0,80})\]"
)


class RelaxedError(ValueError):
    """The text is not an object literal this reader understands; ``pos`` is where it failed."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def parse_relaxed(text: str) -> Any:
    """Parse one JSON-like value (strict JSON first, then the relaxed grammar)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    parser = _Parser(text)
    value = parser.value(0)
    parser.skip()
    if parser.pos != len(text):
        raise RelaxedError(f"unexpected {text[parser.pos : parser.pos + 12]!r}", parser.pos)
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        match = _WS_COMMENT.match(self.text, self.pos)
        if match:
            self.pos = match.end()

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def fail(self, what: str) -> RelaxedError:
        found = self.text[self.pos : self.pos + 12]
        return RelaxedError(
            f"{what}, found {found!r}" if found else f"{what}, found the end", self.pos
        )

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply")
        char = self.peek()
        if char == "{":
            return self.obj(depth + 1)
        if char == "[":
            marker = _INSPECT_MARKER.match(self.text, self.pos)
            if marker:  # node's util.inspect placeholders: [Object], [Array], [Function: f]…
                self.pos = marker.end()
                return marker.group()
            return self.array(depth + 1, "]")
        if char == "(":
            return self.tuple(depth + 1)
        if char in ("'", '"'):
            return self.strings()
        for dots in _ELLIPSIS:
            if self.text.startswith(dots, self.pos):
                self.pos += len(dots)
                return "…"
        if char in "bru" and self.text[self.pos + 1 : self.pos + 2] in ("'", '"'):
            self.pos += 1  # Python bytes/raw/unicode prefix
            return self.strings()
        number = _NUMBER.match(self.text, self.pos)
        if number and number.group() not in ("-", "+", "."):
            self.pos = number.end()
            return _number(number.group())
        if self.text.startswith("-Infinity", self.pos):
            self.pos += len("-Infinity")
            return "-Infinity"
        bare = _BARE.match(self.text, self.pos)
        if bare:
            self.pos = bare.end()
            word = bare.group()
            if word in _LITERALS:
                return _LITERALS[word]
            if self.peek() == "(":
                return self.call(bare.start(), depth + 1)
            return word
        raise self.fail("expected a value")

    def key(self) -> str:
        char = self.peek()
        if char in ("'", '"'):
            return self.strings()
        number = _NUMBER.match(self.text, self.pos)
        if number and number.group():
            self.pos = number.end()
            return number.group()
        bare = _BARE.match(self.text, self.pos)
        if bare:
            self.pos = bare.end()
            return bare.group()
        raise self.fail("expected a key")

    def obj(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        while True:
            char = self.peek()
            if char == "}":
                self.pos += 1
                return out
            if any(self.text.startswith(d, self.pos) for d in _ELLIPSIS):
                self.value(depth)  # a console's "… 3 more" marker
                if self.peek() == ",":
                    self.pos += 1
                continue
            key = self.key()
            char = self.peek()
            if char in (":", "="):
                self.pos += 1
                if self.text.startswith(">", self.pos):  # Ruby/Perl "=>"
                    self.pos += 1
            else:
                raise self.fail("expected ':' after a key")
            out[key] = self.value(depth)
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != "}":
                raise self.fail("expected ',' or '}'")

    def array(self, depth: int, close: str) -> list[Any]:
        self.pos += 1
        out: list[Any] = []
        while True:
            char = self.peek()
            if char == close:
                self.pos += 1
                return out
            item = self.value(depth)
            out.append(item)
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != close:
                raise self.fail(f"expected ',' or '{close}'")

    def call(self, start: int, depth: int) -> Any:
        """``Name(a=1, b=Other(c=2))`` (a pydantic/dataclass repr) → a dict of its keywords.

        A call with positional arguments (``datetime.datetime(2025, 5, 7)``) becomes its source
        text: it is a value the log printed, not something to interpret.
        """
        self.pos += 1  # "("
        out: dict[str, Any] = {}
        positional = False
        while True:
            if self.peek() == ")":
                self.pos += 1
                return self.text[start : self.pos] if positional else out
            keyword = _BARE.match(self.text, self.pos)
            after = keyword.end() if keyword else self.pos
            rest = _WS_COMMENT.match(self.text, after)
            after = rest.end() if rest else after
            if (
                keyword
                and self.text.startswith("=", after)
                and not self.text.startswith("==", after)
            ):
                self.pos = after + 1
                out[keyword.group()] = self.value(depth)
            else:
                self.value(depth)
                positional = True
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != ")":
                raise self.fail("expected ',' or ')'")

    def tuple(self, depth: int) -> Any:
        start = self.pos
        items = self.array(depth, ")")
        text = self.text[start : self.pos]
        # ("a" "b") is one parenthesised value; ("a",) and (1, 2) are tuples.
        if len(items) == 1 and not text.rstrip(")").rstrip().endswith(","):
            return items[0]
        return items

    def strings(self) -> str:
        parts = [self.string()]
        while self.peek() in ("'", '"'):
            parts.append(self.string())  # Python's implicit concatenation
        return "".join(parts)

    def string(self) -> str:
        text = self.text
        quote = text[self.pos]
        if text.startswith(quote * 3, self.pos):
            end = text.find(quote * 3, self.pos + 3)
            if end < 0:
                raise self.fail("unterminated string")
            value = text[self.pos + 3 : end]
            self.pos = end + 3
            return value
        out: list[str] = []
        i = self.pos + 1
        n = len(text)
        while i < n:
            char = text[i]
            if char == quote:
                self.pos = i + 1
                return _fix_surrogates("".join(out))
            if char == "\n":
                break
            if char == "\\" and i + 1 < n:
                nxt = text[i + 1]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2 : i + 4]):
                    out.append(chr(int(text[i + 2 : i + 4], 16)))
                    i += 4
                    continue
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
                i += 2
                continue
            out.append(char)
            i += 1
        raise self.fail("unterminated string")


def _number(token: str) -> int | float | str:
    clean = token.replace("_", "")
    try:
        if clean.lower().lstrip("+-").startswith("0x"):
            return int(clean, 16)
        try:
            return int(clean)
        except ValueError:
            return float(clean)
    except ValueError:
        return token


_SURROGATES = re.compile("[\ud800-\udfff]")


def _fix_surrogates(text: str) -> str:
    """Join escaped surrogate pairs (``\\ud83d\\ude00``); a lone one becomes U+FFFD."""
    if not _SURROGATES.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
