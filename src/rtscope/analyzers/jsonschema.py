"""A small validator for the compact client-event schemas shipped with rtscope.

``client_events.schema.json`` is generated from the ``openai`` SDK's own pydantic models (see
:func:`rtscope.analyzers.schema.generate_schemas`) and holds, per dialect, the JSON Schema of the
discriminated client-event union. Importing the SDK costs ~0.8 s, more than a whole analysis of a
1 MB capture, so the common path validates against this file instead; a test checks that the
file matches the installed SDK and that both paths give the same problems.

Only the keywords pydantic emits for these models are implemented: ``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``const``, ``enum``, ``anyOf``, ``$ref``, and the
top-level ``oneOf`` with a ``discriminator``. Types are checked as JSON Schema says (a numeric
string is not an integer), which is what the server does with JSON, and stricter than pydantic's
lax mode.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Problem", "load_schemas", "validate"]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


class Problem:
    """One schema problem: JSON path, what is wrong, allowed values."""

    __slots__ = ("allowed", "message", "path", "unknown_field")

    def __init__(
        self, path: str, message: str, allowed: tuple[str, ...] = (), unknown_field: bool = False
    ) -> None:
        self.path = path
        self.message = message
        self.allowed = allowed
        self.unknown_field = unknown_field

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r}, {self.allowed!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (
            self.path,
            self.message,
            self.allowed,
            self.unknown_field,
        ) == (other.path, other.message, other.allowed, other.unknown_field)

    def __hash__(self) -> int:
        return hash((self.path, self.message, self.allowed, self.unknown_field))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "problem": self.message}
        if self.allowed:
            out["allowed"] = list(self.allowed)
        return out


@cache
def load_schemas() -> dict[str, Any]:
    """The shipped schemas: ``{"openai": version, "ga": schema, "beta": schema}``."""
    # a plain path: importlib.resources costs more to import than the whole analysis
    data = Path(__file__).with_name("client_events.schema.json").read_bytes()
    schemas: dict[str, Any] = orjson.loads(data)
    return schemas


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is(value: Any, json_type: str) -> bool:
    if json_type == "null":
        return value is None
    if isinstance(value, bool) and json_type != "boolean":
        return False
    return isinstance(value, _JSON_TYPES.get(json_type, ()))


class _Validator:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def check(self, node: dict[str, Any], value: Any, path: str) -> list[Problem]:
        node = self.resolve(node)
        if "anyOf" in node:
            return self.any_of(node["anyOf"], value, path)
        if "const" in node:
            if value != node["const"] or _type_name(value) != _type_name(node["const"]):
                return [Problem(path, f"must be {node['const']!r}", (str(node["const"]),))]
            return []
        if "enum" in node:
            if value not in node["enum"]:
                allowed = tuple(str(v) for v in node["enum"])
                return [Problem(path, f"{value!r} is not one of the allowed values", allowed)]
            return []
        json_type = node.get("type")
        if isinstance(json_type, str) and not _is(value, json_type):
            return [Problem(path, f"expected {json_type}, found {_type_name(value)}")]
        if json_type == "object":
            return self.obj(node, value, path)
        if json_type == "array" and "items" in node:
            out: list[Problem] = []
            for i, item in enumerate(value):
                out += self.check(node["items"], item, f"{path}[{i}]")
            return out
        return []

    def obj(self, node: dict[str, Any], value: dict[str, Any], path: str) -> list[Problem]:
        out: list[Problem] = []
        props: dict[str, Any] = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for name in node.get("required", ()):
            if name not in value:
                out.append(Problem(f"{path}.{name}", "required field is missing"))
        for key, item in value.items():
            sub = f"{path}.{key}"
            if key in props:
                out += self.check(props[key], item, sub)
            elif isinstance(extra, dict):
                out += self.check(extra, item, sub)
            elif extra is False:
                out.append(Problem(sub, "field not allowed"))
            elif props:
                out.append(
                    Problem(sub, "unknown field (ignored or refused by the server)", (), True)
                )
        return out

    def any_of(self, branches: list[Any], value: Any, path: str) -> list[Problem]:
        results = [self.check(b, value, path) for b in branches]
        clean = [r for r in results if not any(not p.unknown_field for p in r)]
        if clean:
            return min(clean, key=len)

        def tag_mismatch(problems: list[Problem]) -> bool:
            # a wrong "type"/"role" literal of this very object: another member was meant
            return any(p.path in (f"{path}.type", f"{path}.role") and p.allowed for p in problems)

        def wrong_type(problems: list[Problem]) -> bool:
            # this very value has another JSON type than the member (``null`` of an optional
            # object): pydantic reports the errors inside the member of the right type
            return any(p.path == path and p.message.startswith("expected ") for p in problems)

        return min(
            results,
            key=lambda r: (tag_mismatch(r), wrong_type(r), sum(not p.unknown_field for p in r)),
        )

    def event(self, root: dict[str, Any], event: dict[str, Any]) -> list[Problem]:
        mapping: dict[str, str] = root["discriminator"]["mapping"]
        ref = mapping.get(str(event.get("type")))
        if ref is None:
            return [Problem("$.type", f"unknown client event type {event.get('type')!r}")]
        return self.check({"$ref": ref}, event, "$")


@cache
def _validator(dialect: str) -> tuple[_Validator, dict[str, Any]]:
    schema = load_schemas()[dialect]
    return _Validator(schema), schema


def validate(event: dict[str, Any], dialect: str) -> list[Problem]:
    """Problems of ``event`` against the shipped schema of ``dialect`` (``"ga"``/``"beta"``)."""
    validator, root = _validator(dialect)
    return validator.event(root, event)
