"""Validation of client events against the official schemas of their dialect (``openai`` types).

Recipe of protocol notes §5.2: the SDK's unions get a *real* discriminator on ``type`` (the SDK's
own ``PropertyInfo`` marker is ignored by pydantic, which would otherwise try every member),
unknown fields are listed (the models accept and keep them), and the role × content-type table
is applied by hand for beta (whose models accept ``text`` for every role).

Cost: importing ``openai`` takes ~0.8 s, more than analyzing a 1 MB capture. So the common path
(:func:`validate_client_event`) checks against ``client_events.schema.json``, the JSON Schema of
the same discriminated unions generated from the SDK (:func:`generate_schemas`; regenerate with
``python -m rtscope.analyzers.schema``), with the small validator of
:mod:`rtscope.analyzers.jsonschema`. :func:`validate_with_sdk` is the reference path through the
SDK's pydantic models; tests check both agree and that the shipped file matches the SDK.
``input_audio_buffer.append`` (the bulk of any capture) is checked by hand, and verdicts are
cached per distinct event.
"""

from __future__ import annotations

import re
import sys
import typing
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from .jsonschema import Problem, validate

__all__ = [
    "ROLE_CONTENT",
    "Problem",
    "generate_schemas",
    "validate_client_event",
    "validate_with_sdk",
]

#: dialect → role → content types the server accepts in ``conversation.item.create``
ROLE_CONTENT: dict[str, dict[str, tuple[str, ...]]] = {
    "ga": {
        "user": ("input_text", "input_audio", "input_image"),
        "system": ("input_text",),
        "assistant": ("output_text", "output_audio"),
    },
    "beta": {
        "user": ("input_text", "input_audio"),
        "system": ("input_text",),
        "assistant": ("text", "audio"),
    },
}

_APPEND_KEYS = frozenset({"type", "event_id", "audio"})
_BRANCH = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def _path(loc: tuple[Any, ...]) -> str:
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@cache
def _adapters() -> dict[str, Any]:
    # The SDK import is the expensive part; it happens once, and only when needed.
    from openai.types.beta.realtime import RealtimeClientEvent as BetaClient
    from openai.types.realtime import RealtimeClientEvent as GaClient
    from pydantic import Field, TypeAdapter

    def discriminated(alias: Any) -> Any:
        members = typing.get_args(typing.get_args(alias)[0])
        union: Any = typing.Union[tuple(members)]  # noqa: UP007 - built at runtime
        annotated: Any = typing.Annotated[union, Field(discriminator="type")]
        return TypeAdapter(annotated)

    return {"ga": discriminated(GaClient), "beta": discriminated(BetaClient)}


def _unknown_fields(obj: Any, path: str) -> list[str]:
    from pydantic import BaseModel

    out: list[str] = []
    if isinstance(obj, BaseModel):
        out += [f"{path}.{k}" for k in (obj.model_extra or {})]
        for name in type(obj).model_fields:
            out += _unknown_fields(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            out += _unknown_fields(v, f"{path}[{i}]")
    return out


def _strip_digests(event: dict[str, Any]) -> dict[str, Any]:
    """Dropped audio (``{"bytes": N, "sha256": …}``) stands for a base64 string."""
    item = event.get("item")
    if not isinstance(item, dict) or not isinstance(item.get("content"), list):
        return event
    content = [
        {**p, "audio": ""} if isinstance(p, dict) and isinstance(p.get("audio"), dict) else p
        for p in item["content"]
    ]
    return {**event, "item": {**item, "content": content}}


def validate_with_sdk(event: dict[str, Any], dialect: str) -> list[Problem]:
    """Problems of ``event`` found by the SDK's pydantic models (slow import; the reference)."""
    from pydantic import ValidationError

    adapter = _adapters()[dialect]
    try:
        model = adapter.validate_python(_strip_digests(event))
    except ValidationError as exc:
        return _pick_branch(exc.errors(include_url=False), event)
    return [
        Problem(path, "unknown field (ignored or refused by the server)", unknown_field=True)
        for path in _unknown_fields(model, "$")
    ]


def _pick_branch(errors: list[Any], event: dict[str, Any]) -> list[Problem]:
    """Keep the errors of the union member the event most likely meant (fewest errors, and not
    a mismatch of its ``type``/``role`` tag), without the member names in the path."""
    if errors and errors[0].get("type") == "union_tag_invalid":
        return [Problem("$.type", f"unknown client event type {event.get('type')!r}")]
    groups: dict[tuple[str, ...], list[Any]] = {}
    for err in errors:
        loc = tuple(err.get("loc", ()))[1:]  # drop the top-level tag
        branch = tuple(p for p in loc if isinstance(p, str) and _BRANCH.match(p))
        groups.setdefault(branch, []).append(err)

    def tag_mismatch(errs: list[Any]) -> bool:
        return any(
            e.get("type") == "literal_error"
            and tuple(e.get("loc", ()))[-1] in ("type", "role")
            and not isinstance(tuple(e.get("loc", ()))[-2], int)
            for e in errs
        )

    ranked = sorted(groups.values(), key=lambda errs: (tag_mismatch(errs), len(errs)))
    out = []
    for err in ranked[0] if ranked else []:
        loc = tuple(
            p
            for p in tuple(err.get("loc", ()))[1:]
            if not (isinstance(p, str) and _BRANCH.match(p))
        )
        ctx = err.get("ctx") or {}
        allowed = tuple(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "missing":
            msg = "required field is missing"
        out.append(Problem(_path(loc), msg, allowed))
    return out


def _role_problems(event: dict[str, Any], dialect: str) -> list[Problem]:
    item = event.get("item")
    if not isinstance(item, dict) or item.get("type", "message") != "message":
        return []
    allowed = ROLE_CONTENT[dialect].get(str(item.get("role")))
    if allowed is None or not isinstance(item.get("content"), list):
        return []
    out = []
    for i, part in enumerate(item["content"]):
        if isinstance(part, dict) and part.get("type") not in allowed:
            out.append(
                Problem(
                    f"$.item.content[{i}].type",
                    f"content type {part.get('type')!r} is not allowed for role "
                    f"{item.get('role')!r}",
                    allowed,
                )
            )
    return out


def _check_append(event: dict[str, Any]) -> list[Problem]:
    out = []
    audio = event.get("audio")
    if audio is None:
        out.append(Problem("$.audio", "required field is missing"))
    elif not isinstance(audio, str | dict):
        out.append(Problem("$.audio", "must be a base64 string"))
    if "event_id" in event and not isinstance(event["event_id"], str):
        out.append(Problem("$.event_id", "must be a string"))
    out += [
        Problem(f"$.{k}", "unknown field (ignored or refused by the server)", unknown_field=True)
        for k in event
        if k not in _APPEND_KEYS
    ]
    return out


#: Validation results by event shape. Keyed without ``event_id`` (unique per event, so a key with
#: it never hits) and bounded as an LRU: the recorder runs this for hours, and 10 000 whole events
#: had been kept (bench/proxy_memory.py, make soak).
_CACHE: OrderedDict[tuple[bytes, str], list[Problem]] = OrderedDict()
_CACHE_SIZE = 256


def validate_client_event(event: dict[str, Any], dialect: str) -> list[Problem]:
    """Problems of one client event in ``dialect`` (``"ga"`` or ``"beta"``); ``[]`` if valid."""
    if event.get("type") == "input_audio_buffer.append":
        return _check_append(event)
    shape = {k: v for k, v in event.items() if k != "event_id"}
    if "event_id" in event:  # its type still matters: a number there is a schema problem
        shape["event_id"] = type(event["event_id"]).__name__
    try:
        key = (orjson.dumps(shape, option=orjson.OPT_SORT_KEYS), dialect)
    except TypeError:
        key = (repr(shape).encode(), dialect)
    found = _CACHE.get(key)
    if found is None:
        found = validate(_strip_digests(event), dialect)
        seen = {p.path for p in found}
        found += [p for p in _role_problems(event, dialect) if p.path not in seen]
        found.sort(key=lambda p: p.unknown_field)
        _CACHE[key] = found
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return list(found)


_NOISE = frozenset({"title", "description", "default"})


def _compact(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                {name: _compact(v) for name, v in node[k].items()}
                if k in ("properties", "$defs")
                else _compact(v)
            )
            for k, v in node.items()
            if k not in _NOISE
        }
    if isinstance(node, list):
        return [_compact(v) for v in node]
    return node


def generate_schemas() -> dict[str, Any]:
    """The compact JSON Schemas of both client-event unions, from the installed SDK."""
    from importlib.metadata import version

    adapters = _adapters()
    out: dict[str, Any] = {"openai": version("openai")}
    for dialect in ("ga", "beta"):
        out[dialect] = _compact(adapters[dialect].json_schema())
    return out


SCHEMA_FILE = Path(__file__).with_name("client_events.schema.json")


def main() -> None:
    """Regenerate ``client_events.schema.json`` from the installed SDK."""
    data = orjson.dumps(generate_schemas(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    SCHEMA_FILE.write_bytes(data + b"\n")
    print(f"wrote {SCHEMA_FILE.name} ({len(data)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
