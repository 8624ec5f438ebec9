"""The rule catalog. Importing this package registers every rule (see ``registry``)."""

from __future__ import annotations

from . import audio, connection, extra, more, requests, responses, schema_rule, tools

__all__ = ["audio", "connection", "extra", "more", "requests", "responses", "schema_rule", "tools"]
