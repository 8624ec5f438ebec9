"""Conversation items of the simulator: create (with the role/content table), retrieve,
delete, truncate."""

from __future__ import annotations

from typing import Any

from .base import ACK_S, SessionBase
from .session import (
    Dialect,
)


class ItemsMixin(SessionBase):
    """Conversation items and their acks."""

    def _check_item(self, item: Any) -> tuple[str, str, str] | None:
        """``(code, message, param)`` when the item is refused."""
        if not isinstance(item, dict):
            return ("missing_required_parameter", "Missing required parameter: 'item'.", "item")
        itype = item.get("type", "message")
        if itype == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str):
                return (
                    "missing_required_parameter",
                    "Missing required parameter: 'item.call_id'.",
                    "item.call_id",
                )
            if not any(
                i.get("call_id") == call_id and i.get("type") == "function_call" for i in self.items
            ):
                return (
                    "invalid_tool_call_id",
                    f"Tool call ID '{call_id}' not found in conversation.",
                    "item.call_id",
                )
            return None
        if itype == "function_call":
            return None
        if itype != "message":
            return (
                "invalid_value",
                f"Invalid value: '{itype}'. Supported values are: 'message', 'function_call', "
                "and 'function_call_output'.",
                "item.type",
            )
        role = item.get("role")
        content = item.get("content")
        if role not in ("user", "system", "assistant"):
            return (
                "invalid_value",
                f"Invalid value: '{role}'. Supported values are: 'user', 'assistant', and "
                "'system'.",
                "item.role",
            )
        if not isinstance(content, list):
            return (
                "invalid_type",
                "Invalid type for 'item.content': expected an array.",
                "item.content",
            )
        allowed = _allowed_content(self.dialect, role)
        for index, part in enumerate(content):
            ctype = part.get("type") if isinstance(part, dict) else None
            if ctype not in allowed:
                values = " and ".join(f"'{a}'" for a in allowed)
                return (
                    "invalid_value",
                    f"Invalid value: '{ctype}'. Supported values are: {values}.",
                    f"item.content[{index}].type",
                )
            if ctype in ("input_text", "text", "output_text") and not isinstance(
                part.get("text"), str
            ):
                return (
                    "missing_required_parameter",
                    f"Missing required parameter: 'item.content[{index}].text'.",
                    f"item.content[{index}].text",
                )
        return None

    def _on_conversation_item_create(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        item = event.get("item")
        problem = self._check_item(item)
        previous = event.get("previous_item_id")
        if problem is None and isinstance(previous, str) and previous != "root":
            if self._find(previous) is None:
                problem = (
                    "invalid_value",
                    f"Previous item with id '{previous}' not found.",
                    "previous_item_id",
                )
        if problem is not None:
            self._refuse(now, *problem, client_id)
            return
        assert isinstance(item, dict)
        stored = {
            "id": item.get("id") or self._id("item_"),
            "object": "realtime.item",
            "type": item.get("type", "message"),
            "status": "completed",
            **{k: v for k, v in item.items() if k not in ("id", "object", "status")},
        }
        self._add_item(now + ACK_S, stored, previous)

    def _on_conversation_item_retrieve(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        index = self._find(event.get("item_id"))
        if index is None:
            self._not_found(now, event, client_id)
            return
        self._send(now + ACK_S, "conversation.item.retrieved", item=self.items[index])

    def _on_conversation_item_delete(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        index = self._find(event.get("item_id"))
        if index is None:
            self._not_found(now, event, client_id)
            return
        del self.items[index]
        self._send(now + ACK_S, "conversation.item.deleted", item_id=event["item_id"])

    def _not_found(self, now: float, event: dict[str, Any], client_id: str | None) -> None:
        self._refuse(
            now,
            "item_not_found",
            f"Item with item_id '{event.get('item_id')}' not found.",
            "item_id",
            client_id,
        )

    def _on_conversation_item_truncate(
        self, now: float, event: dict[str, Any], client_id: str | None
    ) -> None:
        item_id = event.get("item_id")
        index = self._find(item_id)
        if index is None:
            self._not_found(now, event, client_id)
            return
        item = self.items[index]
        content_index = event.get("content_index", 0)
        content = item.get("content") or []
        has_audio = (
            isinstance(content_index, int)
            and 0 <= content_index < len(content)
            and (content[content_index].get("type") in ("audio", "output_audio"))
        )
        if item.get("role") != "assistant" or not has_audio:
            self._refuse(
                now,
                "unsupported_content_type",
                "Only model output audio messages can be truncated",
                None,
                client_id,
            )
            return
        requested = event.get("audio_end_ms")
        if not isinstance(requested, int) or requested < 0:
            self._refuse(now, "invalid_value", "Invalid 'audio_end_ms'.", "audio_end_ms", client_id)
            return
        generated = self._item_audio_ms.get(str(item_id), 0)
        if requested > generated:
            self._refuse(
                now,
                "invalid_value",
                f"Audio content of {generated}ms is already shorter than {requested}ms",
                "audio_end_ms",
                client_id,
            )
            requested = generated
        content[content_index]["transcript"] = ""
        self._item_audio_ms[str(item_id)] = requested
        self._send(
            now + ACK_S,
            "conversation.item.truncated",
            item_id=item_id,
            content_index=content_index,
            audio_end_ms=requested,
        )


def _item_part(part: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """Content part as stored in the item: GA renames ``text``/``audio`` to ``output_*``."""
    if dialect == "beta":
        return dict(part)
    return {**part, "type": "output_" + str(part["type"])}


def _allowed_content(dialect: Dialect, role: str) -> tuple[str, ...]:
    if dialect == "ga":
        return {
            "user": ("input_text", "input_audio", "input_image"),
            "system": ("input_text",),
            "assistant": ("output_text", "output_audio"),
        }[role]
    if role == "assistant":
        return ("text", "audio", "output_text")
    return ("input_text", "input_audio", "text", "input_image")
