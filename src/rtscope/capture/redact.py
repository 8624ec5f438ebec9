"""Secret removal, applied before anything reaches disk.

Three places carry secrets in a Realtime session (see docs/capture-format.md, "Redaction"):

- handshake headers (``authorization``, ``api-key``, cookies, subprotocol keys);
- URL query parameters (Azure's ``api-key``, generic ``key``/``token``/…);
- event payloads (``client_secret.value``, ``ek_…``/``sk-…`` strings, MCP tool authorization).

Identifiers that are not secrets but tie a capture to an account (organization, project, call ids)
are pseudonymized: replaced by a short stable digest, so two captures of one project still match.

Everything here is pure: values in, values out.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..protocol.events import AUDIO_FIELDS as _AUDIO_FIELDS

__all__ = [
    "REDACTED",
    "event_might_hold_secret",
    "might_hold_secret",
    "pseudonym",
    "redact_event",
    "redact_headers",
    "redact_text",
    "redact_url",
]

REDACTED = "[REDACTED]"


def _norm_key(key: str) -> str:
    return key.lower().replace("-", "_")


#: Header names whose whole value is a secret.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "cookie",
        "set-cookie",
        "openai-insecure-api-key",
    }
)
#: Header names whose value identifies an account: pseudonymized.
ID_HEADERS = frozenset({"openai-organization", "openai-project"})

#: Query parameters whose value is a secret (compared lower-case, ``-`` and ``_`` alike).
SECRET_QUERY_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "auth",
        "authorization",
        "client_secret",
        "secret",
        "password",
        "sig",
        "signature",
        "code",
    }
)
ID_QUERY_KEYS = frozenset({"call_id"})

#: JSON keys (any depth) whose value is a secret.
SECRET_JSON_KEYS = frozenset(
    {"authorization", "api_key", "api-key", "apikey", "password", "access_token", "token"}
)

_SECRET_HEADER_KEYS = SECRET_JSON_KEYS | {_norm_key(h) for h in SECRET_HEADERS}

# ``sk-`` keys (also sk-proj-…), ephemeral ``ek_`` keys, bearer tokens of any shape.
_SECRET_RE = re.compile(
    r"(?P<sk>\bsk-[A-Za-z0-9_\-]{16,})"
    r"|(?P<ek>\bek_[A-Za-z0-9_\-]{8,})"
    r"|(?P<bearer>(?<=Bearer )[A-Za-z0-9._~+/=\-]{8,})",
)
_SUBPROTO_SECRET = "openai-insecure-api-key."
_SUBPROTO_IDS = ("openai-organization.", "openai-project.")

# Byte needles that a payload must contain for any rule above to apply. Standard base64 (audio)
# has neither '-' nor '_', so audio never matches them by chance.
_NEEDLES = (
    b"sk-",
    b"ek_",
    b"Bearer",
    b"secret",
    b"uthorization",
    b"api_key",
    b"api-key",
    b"apiKey",
)


def pseudonym(value: str) -> str:
    """A short, stable stand-in for an identifier: ``[ID 1a2b3c4d5e6f]``."""
    return "[ID " + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12] + "]"


def _utf8(text: str) -> str:
    """``text`` without lone surrogates (U+FFFD instead), so it can be encoded and written.

    mitmproxy decodes bytes that are not UTF-8 in URLs and headers as surrogate escapes.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def might_hold_secret(payload: bytes) -> bool:
    """Cheap prefilter: ``False`` means no redaction rule can apply to ``payload``."""
    # Spelled out: a generator over _NEEDLES costs 1.9 µs on a short payload, this 0.5 µs.
    return (
        b"sk-" in payload
        or b"ek_" in payload
        or b"Bearer" in payload
        or b"secret" in payload
        or b"uthorization" in payload
        or b"api_key" in payload
        or b"api-key" in payload
        or b"apiKey" in payload
    )


def event_might_hold_secret(payload: bytes, event: dict[str, Any]) -> bool:
    """:func:`might_hold_secret` for a parsed event, without scanning its base64 audio.

    Every secret pattern needs a ``-``, ``_`` or a space; standard base64 has none, so when the
    audio field of an audio event is plain base64 and sits verbatim in ``payload``, only the bytes
    around it are scanned. This is the proxy's hot path: audio is most of a voice session's bytes.
    """
    etype = event.get("type")
    fields = _AUDIO_FIELDS.get(etype) if isinstance(etype, str) else None
    if fields:
        name = fields[0]
        value = event.get(name)
        if isinstance(value, str) and len(value) > 256 and value.isascii():
            raw = value.encode("ascii")
            if b"-" not in raw and b"_" not in raw and b" " not in raw:
                key = b'"' + name.encode() + b'":"'
                at = payload.find(key)
                start = at + len(key)
                if at >= 0 and payload[start : start + len(raw)] == raw:
                    return might_hold_secret(payload[:start]) or might_hold_secret(
                        payload[start + len(raw) :]
                    )
    return might_hold_secret(payload)


def redact_text(text: str) -> str:
    """Replace every secret-shaped substring of ``text`` by ``[REDACTED]``."""
    return _SECRET_RE.sub(REDACTED, text)


def redact_headers(headers: list[tuple[str, str]] | dict[str, str]) -> dict[str, str]:
    """Lower-case header names; redact or pseudonymize what carries a secret or an account id.

    Repeated headers are joined with ``", "`` as HTTP allows (``set-cookie`` is redacted anyway).
    """
    items = headers.items() if isinstance(headers, dict) else headers
    out: dict[str, str] = {}
    for raw_name, raw_value in items:
        name, value = _utf8(raw_name).lower(), _utf8(raw_value)
        if name in SECRET_HEADERS:
            new = REDACTED
        elif name in ID_HEADERS:
            new = pseudonym(value)
        elif name == "sec-websocket-protocol":
            new = ", ".join(_redact_subprotocol(p.strip()) for p in value.split(","))
        else:
            new = redact_text(value)
        out[name] = f"{out[name]}, {new}" if name in out else new
    return out


def _redact_subprotocol(entry: str) -> str:
    if entry.startswith(_SUBPROTO_SECRET):
        return _SUBPROTO_SECRET + REDACTED
    for prefix in _SUBPROTO_IDS:
        if entry.startswith(prefix):
            return prefix + pseudonym(entry[len(prefix) :])
    return redact_text(entry)


def redact_url(url: str) -> str:
    """Remove secret query parameters (and userinfo) from a URL; keep ``model``, ``intent``…"""
    parts = urlsplit(_utf8(url))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        norm = _norm_key(key)
        if norm in SECRET_QUERY_KEYS:
            value = REDACTED
        elif norm in ID_QUERY_KEYS:
            value = pseudonym(value)
        else:
            value = redact_text(value)
        pairs.append((key, value))
    query = urlencode(pairs, safe="[]/:,")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_event(obj: Any) -> tuple[Any, bool]:
    """Return ``(redacted copy, changed)`` for a parsed JSON value.

    Applies: ``client_secret`` (its ``value`` or the whole string), secret-named keys (MCP tool
    ``authorization``, ``headers`` entries), and secret-shaped strings anywhere.
    """
    if isinstance(obj, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, value in obj.items():
            norm = _norm_key(key) if isinstance(key, str) else key
            if norm == "client_secret" and value is not None:
                if isinstance(value, dict) and "value" in value:
                    value = {**value, "value": REDACTED}
                elif isinstance(value, str):
                    value = REDACTED
                changed = True
            elif norm in SECRET_JSON_KEYS and isinstance(value, str) and value:
                value, changed = REDACTED, True
            elif norm == "headers" and isinstance(value, dict):
                masked = {
                    k: REDACTED if _norm_key(k) in _SECRET_HEADER_KEYS else v
                    for k, v in value.items()
                }
                new_value, _ = redact_event(masked)
                changed |= new_value != value
                value = new_value
            else:
                new_value, sub_changed = redact_event(value)
                if sub_changed:
                    value, changed = new_value, True
            out[key] = value
        return out, changed
    if isinstance(obj, list):
        changed = False
        items = []
        for item in obj:
            new_item, sub_changed = redact_event(item)
            changed |= sub_changed
            items.append(new_item)
        return items, changed
    if isinstance(obj, str):
        new = redact_text(obj)
        return new, new != obj
    return obj, False
