"""The rule catalog. Importing this package registers every rule (see ``registry``)."""

from __future__ import annotations

from . import audio, connection, requests, responses, schema_rule, tools

__all__ = ["audio", "connection", "requests", "responses", "schema_rule", "tools"]
