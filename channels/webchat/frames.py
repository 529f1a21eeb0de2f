"""Frames the hub sends to the widget (JSON text), built from hub.model objects.

welcome  {"visitor_id", "token", "title", "greeting", "offline_message"}   answer to hello
status   {"online", "assigned", "agent_name", "queue_position", "queue_long",
          "estimated_wait_seconds"}   queue and wait: see status.py
history  {"messages": [...], "reset"}   answer to resume; reset: replace what is shown
message  {"message": {"id", "conversation_id", "from", "text", "author", "created_at", ...}}
ack      {"client_id", "id", "conversation_id", "duplicate"}
typing   {"who": "agent", "typing"}
email_saved {"address"}
resync   {}                             missed events: send resume again
error    {"code", "message", "client_id"?, "retry_after"?}
"""

from __future__ import annotations

import html
from typing import Any

import nh3
import orjson

from hub.model import Direction, Message


def encode(frame: dict[str, Any]) -> bytes:
    """UTF-8 JSON of a frame (datetimes as RFC 3339 with Z)."""
    return orjson.dumps(frame, option=orjson.OPT_UTC_Z)


def error_frame(
    code: str, message: str, *, client_id: str | None = None, retry_after: float | None = None
) -> bytes:
    """An error the widget can show; the connection stays open."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = round(retry_after, 3)
    return encode(frame)


def plain_text(message: Message) -> str:
    """The message as plain text: its text, else its html with every tag removed."""
    if message.text:
        return message.text
    if message.html:
        return html.unescape(nh3.clean(message.html, tags=set())).strip()
    return ""


def _client_id(message: Message) -> str | None:
    """The widget's own id of a visitor message (its provider id is "<visitor>:<client id>")."""
    if message.direction != Direction.IN or not message.provider_id:
        return None
    return message.provider_id.partition(":")[2] or None


def message_view(message: Message, author_name: str | None) -> dict[str, Any]:
    """What the visitor sees of one message (never notes; the caller filters them)."""
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "from": "visitor" if message.direction == Direction.IN else "agent",
        "text": plain_text(message),
        "author": author_name if message.direction == Direction.OUT else None,
        "client_id": _client_id(message),
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url}
            for a in message.attachments
        ],
        "created_at": message.created_at,
    }


def message_frame(view: dict[str, Any]) -> bytes:
    """One live message."""
    return encode({"type": "message", "message": view})


def history_frame(views: list[dict[str, Any]], *, reset: bool) -> bytes:
    """Messages after the resume point, oldest first."""
    return encode({"type": "history", "messages": views, "reset": reset})
