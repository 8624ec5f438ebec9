"""YAML documents holding Realtime events, including YAML whose indentation was lost.

Logging libraries (seed 002: a C# client) write each message as a YAML document. Pasted into a
forum, such a log often loses its indentation: ``item:`` and the item's own ``type: message`` end
up in the same column, so the text is no longer the YAML it was (ruamel reads duplicate keys, or
the wrong nesting). Two readers:

- :func:`load_yaml` — properly indented YAML, read with ruamel.yaml (installed with mitmproxy);
- :func:`load_flat_yaml` — flattened YAML, rebuilt line by line. Where a nested block ends cannot
  be seen, so the shape of the Realtime events decides: the fields each event and sub-object may
  hold come from the ``openai`` SDK's models (beta and GA merged). A key that the current object
  does not have but an enclosing one does closes the current object; a key already present does
  too. Unknown keys stay where they are.

:func:`load_block` picks the reader. All functions are pure; errors raise :class:`YamlError`.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["YamlError", "event_schema", "load_block", "load_flat_yaml", "load_yaml", "split_key"]


class YamlError(ValueError):
    """A YAML block that cannot be read; ``line`` is 0-based within the block when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_COLON = re.compile(r":(?=[ \t]|$)")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def split_key(line: str) -> tuple[str, str | None] | None:
    """``key: value`` → ``(key, value)``; ``key:`` → ``(key, None)``; anything else → ``None``."""
    text = line.strip()
    if not text or text[0] in "#[{&*!|>%@`" or text == "-" or text.startswith("- "):
        return None
    if text[0] in "'\"":
        end = text.find(text[0], 1)
        if end < 0:
            return None
        rest = text[end + 1 :].lstrip()
        if not _COLON.match(rest):
            return None
        key, value = text[1:end], rest[1:].strip()
    else:
        colon = _COLON.search(text)
        if not colon:
            return None
        key, value = text[: colon.start()].rstrip(), text[colon.end() :].strip()
        if not key or "#" in key or key[0] in "'\"":
            return None
    return key, (value if value else None)


def load_block(lines: list[str]) -> Any:
    """Read one YAML document (a list of lines without the ``---`` separators)."""
    body = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    indented = any(line[:1] in (" ", "\t") for line in body)
    if indented or not _looks_flattened(body):
        try:
            return load_yaml("\n".join(lines))
        except YamlError:
            if indented:
                raise
    return load_flat_yaml(lines)


def _looks_flattened(body: list[str]) -> bool:
    """An empty-valued ``key:`` followed by another ``key: …`` line in the same column."""
    for index, line in enumerate(body[:-1]):
        pair = split_key(line)
        if pair and pair[1] is None:
            nxt = body[index + 1]
            if not nxt.startswith("- ") and nxt.strip() != "-":
                return True
    return False


def load_yaml(text: str) -> Any:
    """Read properly indented YAML with ruamel.yaml (safe loader, YAML 1.2)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    try:
        return _plain(yaml.load(text))
    except Exception as exc:  # ruamel raises many types; none may escape
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = getattr(mark, "line", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(f"not valid YAML: {problem}", line) from None


def _plain(value: Any) -> Any:
    """Timestamps and other YAML-only types become strings (events are JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# --- flattened YAML -------------------------------------------------------------------------


class _Schema:
    """The keys an object may hold, and the schema of each key's value (from SDK models)."""

    def __init__(self, models: tuple[type, ...]) -> None:
        self.models = models
        self._fields: dict[str, tuple[type, ...]] | None = None

    @property
    def fields(self) -> dict[str, tuple[type, ...]]:
        if self._fields is None:
            fields: dict[str, list[type]] = {}
            for model in self.models:
                for name, info in getattr(model, "model_fields", {}).items():
                    key = info.alias or name
                    bucket = fields.setdefault(key, [])
                    for sub in _models_in(info.annotation):
                        if sub not in bucket:
                            bucket.append(sub)
            self._fields = {k: tuple(v) for k, v in fields.items()}
        return self._fields

    def knows(self, key: str) -> bool:
        return key in self.fields

    def child(self, key: str) -> _Schema | None:
        models = self.fields.get(key)
        return _schema(models) if models else None


@cache
def _schema(models: tuple[type, ...]) -> _Schema:
    return _Schema(models)


def _models_in(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    found: list[type] = []
    stack = [annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            found.append(item)
            continue
        stack.extend(typing.get_args(item))
    return found


@cache
def _event_models() -> dict[str, tuple[type, ...]]:
    """Event type → the SDK models (beta and GA) that describe it."""
    from openai.types.beta.realtime.realtime_client_event import (
        RealtimeClientEvent as BetaClient,
    )
    from openai.types.beta.realtime.realtime_server_event import (
        RealtimeServerEvent as BetaServer,
    )
    from openai.types.realtime.realtime_client_event import RealtimeClientEvent as GaClient
    from openai.types.realtime.realtime_server_event import RealtimeServerEvent as GaServer

    table: dict[str, list[type]] = {}
    for union in (BetaServer, GaServer, BetaClient, GaClient):
        for model in _models_in(union):
            info = getattr(model, "model_fields", {}).get("type")
            if info is None:
                continue
            for literal in typing.get_args(info.annotation):
                if isinstance(literal, str):
                    table.setdefault(literal, []).append(model)
    return {k: tuple(v) for k, v in table.items()}


def event_schema(event_type: str) -> _Schema | None:
    """The schema of one event type, or ``None`` when the SDK does not know it."""
    try:
        models = _event_models().get(event_type)
    except Exception:  # the openai package is a dependency, but never fail an import on it
        return None
    return _schema(models) if models else None


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any] | None  # None while pending (``key:`` seen)
    schema: _Schema | None
    parent: _Frame | None = None
    key: str | None = None

    def in_event(self) -> bool:
        frame: _Frame | None = self
        while frame is not None:
            if frame.schema is not None:
                return True
            frame = frame.parent
        return False

    def ancestor_knows(self, key: str) -> bool:
        frame = self.parent
        while frame is not None:
            if isinstance(frame.container, dict) and frame.schema and frame.schema.knows(key):
                return True
            frame = frame.parent
        return False


def load_flat_yaml(lines: list[str]) -> dict[str, Any]:
    """Rebuild the nesting of YAML whose indentation was lost (see the module docstring)."""
    root: dict[str, Any] = {}
    top = _Frame(root, None)
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        dash = line == "-" or line.startswith("- ")
        rest = line[1:].strip() if dash else line
        pair = split_key(rest) if rest else None
        if dash:
            top = _close_to_list(top, index)
            items = top.container
            assert isinstance(items, list)
            if pair:
                element: dict[str, Any] = {}
                items.append(element)
                top = _Frame(element, top.schema, top)
                top = _put(top, pair)
            elif rest:
                items.append(_scalar(rest))
            else:
                items.append(None)
            continue
        if not pair:
            raise YamlError(f"expected 'key: value', found {_short(line)!r}", index)
        top = _place_key(top, pair[0])
        top = _put(top, pair)
    while top.parent is not None:
        top = _finish(top)
    return root


def _close_to_list(top: _Frame, index: int) -> _Frame:
    if top.container is None:  # ``key:`` then ``- …``: a list
        top.container = []
        _attach(top)
        return top
    frame: _Frame | None = top
    while frame is not None and not isinstance(frame.container, list):
        frame = frame.parent
    if frame is None:
        raise YamlError("a list item ('- …') outside any list", index)
    while top is not frame:
        top = _finish(top)
    return top


def _place_key(top: _Frame, key: str) -> _Frame:
    """Pop frames until one that should hold ``key``."""
    if top.container is None:
        if top.schema is not None and top.schema.knows(key):
            pass
        elif top.ancestor_knows(key) or (top.schema is None and top.in_event()):
            top = _finish(top)  # ``key:`` with nothing under it was a null
        if top.container is None:
            top.container = {}
            _attach(top)
    while top.parent is not None:
        container = top.container
        if isinstance(container, list):
            top = _finish(top)
            continue
        assert isinstance(container, dict)
        if key in container:
            top = _finish(top)
            continue
        if top.schema is not None and not top.schema.knows(key) and top.ancestor_knows(key):
            top = _finish(top)
            continue
        break
    return top


def _put(top: _Frame, pair: tuple[str, str | None]) -> _Frame:
    key, value_text = pair
    container = top.container
    assert isinstance(container, dict)
    if value_text is None:
        child_schema = top.schema.child(key) if top.schema else None
        container[key] = None
        return _Frame(None, child_schema, top, key)
    value = _scalar(value_text)
    container[key] = value
    if key == "type" and isinstance(value, str) and _EVENT_TYPE.match(value):
        if top.schema is None or not top.schema.knows("type"):
            top.schema = event_schema(value)
    return top


def _attach(frame: _Frame) -> None:
    parent = frame.parent
    if parent is not None and isinstance(parent.container, dict) and frame.key is not None:
        parent.container[frame.key] = frame.container


def _finish(frame: _Frame) -> _Frame:
    """Close ``frame``; an empty-valued key that never got content is a null."""
    parent = frame.parent
    assert parent is not None
    if frame.container is None and frame.key is not None and isinstance(parent.container, dict):
        parent.container[frame.key] = None
    return parent


_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")


def _scalar(text: str) -> Any:
    """One YAML scalar as JSON would have it (YAML 1.2 core schema, the common subset)."""
    text = text.strip()
    if not text or text in ("~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text[0] == "'" and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text[0] == '"' and text.endswith('"') and len(text) >= 2:
        import orjson

        try:
            value = orjson.loads(text)
            return value if isinstance(value, str) else text[1:-1]
        except orjson.JSONDecodeError:
            return text[1:-1]
    if text[0] in "[{":
        try:
            return load_yaml(text)
        except YamlError:
            return text
    if " #" in text:
        text = text.split(" #", 1)[0].rstrip()
    return text


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
